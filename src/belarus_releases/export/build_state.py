"""Export, what a build holds: its result (BuildResult, what `build_dataset` returns) and its inputs and work in
progress (Build), shared by export/build.py, which makes the tables, and export/release_files.py, which finishes
the release."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from belarus_releases.check.dataset import CheckResult
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.export.database import DatabaseJob
from belarus_releases.export.files import Values
from belarus_releases.export.incremental import Plan
from belarus_releases.export.package_verifier import PackageVerifier
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem

Progress = Callable[[str], None]
"""Told the name of each step as it starts (the CLI shows a progress bar on a terminal)."""


@dataclass
class BuildResult:
    """What `build_dataset` did: the check it ran (without its records and quotes, which a build that got as far as
    making its tables lets go), every problem, rows per table, and the release it published."""

    check: CheckResult
    problems: list[Problem] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    release: Path | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def outputs(self) -> list[Path]:
        """The files of the published release (none when the build failed)."""
        return sorted(self.release.iterdir()) if self.release else []


@dataclass
class Build:
    """One build's inputs, as the stage that runs under the build lock needs them, and what it holds on the way."""

    layout: Layout
    result: BuildResult
    metadata: dict[str, Any]
    assertions: Loaded
    allow_removals: bool
    progress: Progress
    database: DatabaseJob
    key: str
    digests: dict[str, str]
    inputs: dict[str, str]  # the SHA-256 of every other input file, by its path from the root
    event_ids: list[str]
    plan: Plan | None = None
    tables: dict[str, list[Values]] | None = None
    verifier: PackageVerifier | None = None  # in a full build: checks each table as soon as it is written
    doubted: bool = False  # the live release could not give a full build's bytes: nothing published, start again
