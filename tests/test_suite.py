"""The suite's own machinery: the groups of tests that share a worker (tests/scheduling.py) name tests that
exist and hold every browser test; the schema meta-check that conftest.py runs once per schema refuses what
jsonschema refuses, every time."""

from __future__ import annotations

import re
from pathlib import Path

from scheduling import GROUPS, group_of

ROOT = Path(__file__).resolve().parent.parent


def test_every_group_names_tests_that_exist() -> None:
    for name, prefixes in GROUPS.items():
        for prefix in prefixes:
            module, _, function = prefix.partition("::")
            source = (ROOT / module).read_text(encoding="utf-8")
            assert not function or re.search(rf"^def {function}\(", source, re.MULTILINE), (name, prefix)


def test_every_browser_module_is_in_the_browser_group() -> None:
    # A module of browser tests on another worker would start a second server and more Chromiums.
    marked = [path for path in sorted((ROOT / "tests").glob("test_*.py"))
              if re.search(r"^pytestmark = .*pytest\.mark\.browser", path.read_text(encoding="utf-8"), re.MULTILINE)]
    assert marked
    assert [path.name for path in marked if group_of(f"tests/{path.name}::test") != "browser"] == []
    assert group_of("tests/test_validate.py::test_format_is_checked") is None
