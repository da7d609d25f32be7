"""Export, build: check -> flatten -> write CSV, JSON, SQLite and datapackage.json -> verify -> publish.

Nothing is written unless `check_dataset` finds no problem. Every output is first written into a staging
folder inside build/ (on the same filesystem as its targets), laid out like the repository; the package is
validated there with Frictionless and the database's foreign keys are checked. Only when all of that
passes is each file moved into place with os.replace, datapackage.json last. A failed build leaves build/
and datapackage.json as they were, and removes its staging folder.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from belarus_releases.check.dataset import CheckResult, check_dataset
from belarus_releases.check.metadata import database_name
from belarus_releases.export.datapackage import datapackage_descriptor, validate_package, write_datapackage
from belarus_releases.export.files import write_table_files
from belarus_releases.export.flatten import Tables, flatten
from belarus_releases.export.overview import OverviewError, write_readme
from belarus_releases.export.sqlite import foreign_key_problems, statement_problems, write_sqlite
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES


@dataclass
class BuildResult:
    """What `build_dataset` did: the check it ran, every problem, the files it published, rows per table."""

    check: CheckResult
    problems: list[Problem] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def build_dataset(layout: Layout) -> BuildResult:
    """Check the dataset and, when it has no problem, publish build/ and datapackage.json in one step."""
    result = BuildResult(check_dataset(layout))
    result.problems = list(result.check.problems)
    metadata = result.check.metadata  # read and checked by check_dataset, with everything else
    if not result.ok or metadata is None:
        return result
    tables = flatten(result.check)
    result.rows = {name: len(rows) for name, rows in tables.items()}
    result.problems, result.outputs = _stage_and_publish(layout, tables, metadata)
    return result


def _stage_and_publish(layout: Layout, tables: Tables, metadata: dict[str, Any]) -> tuple[list[Problem], list[Path]]:
    created_build = not layout.build.exists()
    published: list[Path] = []
    try:
        layout.build.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=layout.build))
        try:
            problems, staged = _stage(layout, staging, tables, metadata)
            if not problems:
                published = _publish(layout, staging, staged)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as error:
        problems = [Problem(layout.relative(layout.build), 0, 0, "build-failed", f"{type(error).__name__}: {error}")]
    if problems and created_build:
        shutil.rmtree(layout.build, ignore_errors=True)
    return problems, published


def _stage(layout: Layout, staging: Path, tables: Tables, metadata: dict[str, Any]) -> tuple[list[Problem], list[Path]]:
    """Write every output under `staging`, mirroring the repository layout, then verify them there."""
    build = staging / layout.relative(layout.build)
    build.mkdir(parents=True)
    staged: list[Path] = []
    for table in TABLES:
        staged += write_table_files(table, tables[table.name], build)
    database = staging / layout.relative(layout.database)
    staged.append(write_sqlite(tables, database))
    descriptor = staging / layout.relative(layout.datapackage)
    staged.append(write_datapackage(datapackage_descriptor(layout, metadata), descriptor))
    problems = [Problem(layout.relative(layout.database), 0, 0, "package-invalid", message)
                for message in foreign_key_problems(database)]
    problems += _query_problems(layout, database, metadata)
    problems += validate_package(descriptor, staging)
    if not problems and layout.readme.is_file():
        problems += _stage_readme(layout, staging, database, metadata, staged)
    return problems, staged


def _stage_readme(layout: Layout, staging: Path, database: Path, metadata: dict[str, Any], staged: list[Path]) -> list[Problem]:
    """The README with its overview regenerated; staged before datapackage.json, which must move last."""
    try:
        staged.insert(-1, write_readme(layout.readme, database, metadata, staging / layout.relative(layout.readme)))
    except OverviewError as error:
        return [Problem(layout.relative(layout.readme), 0, 0, "build-failed", str(error))]
    return []


def _query_problems(layout: Layout, database: Path, metadata: dict[str, Any]) -> list[Problem]:
    """Canned queries in metadata.yml that would fail in Datasette, for example after a column was renamed."""
    queries = metadata["databases"][database_name(layout)].get("queries") or {}
    failing = statement_problems(database, {name: query["sql"] for name, query in queries.items()})
    return [Problem(layout.relative(layout.metadata), 0, 0, "metadata-invalid", f"canned query '{name}': {error}")
            for name, error in sorted(failing.items())]


def _publish(layout: Layout, staging: Path, staged: list[Path]) -> list[Path]:
    """Move each staged file over its target; datapackage.json comes last in `staged`, so it moves last."""
    for path in staged:
        _fsync(path)
    targets = []
    for path in staged:
        target = layout.root / path.relative_to(staging)
        _replace(path, target)
        targets.append(target)
    return targets


def _replace(staged: Path, target: Path) -> None:
    """os.replace, through a temporary file beside the target when the target is on another filesystem."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if staged.stat().st_dev != target.parent.stat().st_dev:
        beside = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        shutil.copyfile(staged, beside)
        _fsync(beside)
        staged = beside
    os.replace(staged, target)


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
