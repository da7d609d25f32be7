"""Which tests share a worker under `pytest -n N --dist loadgroup` (pyproject.toml's default).

Tests that share an expensive module- or session-scoped fixture (a built site, a running server, Chromium, a
published deployment) run on one worker, so that the fixture is made once; every other test is its own unit of
work, for the best balance. pytest-xdist's own `xdist_group` marks do nothing with pytest 9.2 (the group it
writes into a test's id no longer sticks: pytest-xdist issue 1386), and a scheduler sees only test ids, so the
groups are named here, once, by the start of their tests' ids. Biggest groups are sent first (xdist's
`--loadscope-reorder`, on by default), so the longest one starts at once.
"""

from __future__ import annotations

import pytest
from xdist.scheduler import LoadGroupScheduling

GROUPS: dict[str, tuple[str, ...]] = {
    # One built site, one `belarus-releases serve`, one Chromium per module.
    "browser": ("tests/test_browser.py::", "tests/test_site_browser.py::"),
    # One published deployment (a wheel is built for it).
    "deploy": ("tests/test_deploy.py::",),
    # One git history with two tagged revisions, and the diff between them.
    "diff": ("tests/test_diff.py::",),
    # One built copy of the mini dataset, broken by each case in turn.
    "hostile-build": ("tests/test_hostile.py::test_a_broken_record_leaves_the_built_outputs_byte_identical",),
}


def group_of(nodeid: str) -> str | None:
    """The group a test belongs to, or None. Test ids are relative to the root folder, wherever pytest runs."""
    for name, prefixes in GROUPS.items():
        if nodeid.startswith(prefixes):
            return name
    return None


class GroupScheduling(LoadGroupScheduling):
    """xdist's loadgroup scheduling, with the groups above (and any `@group` xdist adds once it works again)."""

    def _split_scope(self, nodeid: str) -> str:
        group = group_of(nodeid)
        return f"group:{group}" if group else super()._split_scope(nodeid)


def make_scheduler(config: pytest.Config, log: object) -> GroupScheduling | None:
    """For `pytest_xdist_make_scheduler`: ours for --dist loadgroup, xdist's own for any other --dist."""
    return GroupScheduling(config, log) if config.getvalue("dist") == "loadgroup" else None  # type: ignore[arg-type]
