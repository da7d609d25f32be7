"""Maintenance that is not part of a build, run by make: refresh the two committed files derived from others, and
roll build/current back to the previous release.

- `make datapackage` writes datapackage.json from metadata.yml and tables.py (never from records), so a
  pull request that changes records never makes it stale; tests/test_write_datapackage.py fails when it is.
- `make readme` copies build/current/overview.md (the releases table, made by the build from the database)
  into README.md between the overview markers. It is run on the main branch after a merge, not by
  contributors, so no test compares the committed table with the records.
- `make rollback` points build/current at the release before the live one.

Each file is written beside its target and renamed over it, so a full disk leaves the old file whole and no
temporary file behind.

    python -m belarus_releases.export.maintain datapackage|readme|rollback [ROOT]
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from belarus_releases.check.metadata import load_metadata
from belarus_releases.export.datapackage import datapackage_descriptor, render_datapackage
from belarus_releases.export.overview import OverviewError, with_overview
from belarus_releases.export.publish import BuildLocked, rollback
from belarus_releases.layout import Layout


class MaintainError(Exception):
    """What a maintenance task needs is missing or invalid."""


def refresh_datapackage(layout: Layout) -> Path:
    """Write the committed datapackage.json: the build's descriptor, with paths through build/current."""
    metadata, problems = load_metadata(layout)
    if metadata is None:
        raise MaintainError("\n".join(problem.to_text() for problem in problems))
    descriptor = datapackage_descriptor(layout, metadata, folder=layout.root)
    return replace_text(layout.datapackage, render_datapackage(descriptor))


def refresh_readme(layout: Layout) -> Path:
    """Copy the live release's overview.md into README.md between the overview markers."""
    if not layout.overview.is_file():
        raise MaintainError(f"{layout.relative(layout.overview)} does not exist; run `make build` first")
    table = layout.overview.read_text(encoding="utf-8")
    return replace_text(layout.readme, with_overview(layout.readme.read_text(encoding="utf-8"), table))


def replace_text(target: Path, text: str) -> Path:
    """Write `text` to `target` in one rename: readers see the old file or the new one, and a failure leaves no temporary file."""
    descriptor, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return target


TASKS: dict[str, Callable[[Layout], Path | None]] = {
    "datapackage": refresh_datapackage, "readme": refresh_readme, "rollback": rollback}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in TASKS:
        print(f"usage: python -m belarus_releases.export.maintain {'|'.join(TASKS)} [ROOT]", file=sys.stderr)
        return 2
    layout = Layout(Path(argv[1] if len(argv) > 1 else ".").resolve())
    try:
        done = TASKS[argv[0]](layout)
    except (MaintainError, OverviewError, BuildLocked, OSError) as error:
        print(f"Error: {error}", file=sys.stderr)
        return 1
    print(f"{argv[0]}: {layout.relative(done) if done else 'there is no earlier release'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
