"""Export, build: check -> flatten -> assertions -> write every output into a new folder -> verify -> publish.

Nothing is written unless `check_dataset` finds no problem and the tables meet assertions.yml. Every output
(CSV, JSON and Parquet per table, the SQLite database, datapackage.json, the whole package as a zip, the source
texts, the releases chart, overview.md) is written into a staging folder
inside build/, where the package is validated with Frictionless, the database's foreign keys are checked and
every canned query is compiled. Only then does export/publish.py make that folder the live release, with one
rename of build/current. A failed build leaves build/current as it was; nothing outside build/ is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from belarus_releases.check.dataset import CheckResult, check_dataset
from belarus_releases.check.metadata import database_name, table_metadata
from belarus_releases.export.assertions import removal_problems, size_problems
from belarus_releases.export.chart import write_chart
from belarus_releases.export.datapackage import datapackage_descriptor, validate_package, write_datapackage
from belarus_releases.export.downloads import CHART, PACKAGE_ZIP, copy_source_texts, write_package_zip
from belarus_releases.export.files import write_table_files
from belarus_releases.export.flatten import Tables, flatten
from belarus_releases.export.overview import OverviewError, write_overview
from belarus_releases.export.parquet import write_parquet
from belarus_releases.export.publish import release
from belarus_releases.export.sqlite import foreign_key_problems, statement_problems, write_sqlite
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES


@dataclass
class BuildResult:
    """What `build_dataset` did: the check it ran, every problem, rows per table, and the release it published."""

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


def build_dataset(layout: Layout, *, allow_removals: bool = False, cache: bool = False) -> BuildResult:
    """Check the dataset and, when it has no problem, publish every output as one new release.

    :param allow_removals: publish even when events that build/current publishes have no record any more.
    :param cache: let the check reuse and keep what it found in unchanged files (build/cache/)."""
    result = BuildResult(check_dataset(layout, cache=cache))
    result.problems = list(result.check.problems)
    # metadata.yml and assertions.yml were read and checked by check_dataset, with everything else
    metadata, assertions = result.check.metadata, result.check.assertions
    if not result.ok or metadata is None or assertions is None:
        return result
    tables = flatten(result.check)
    result.rows = {name: len(rows) for name, rows in tables.items()}
    result.problems = list(size_problems(assertions, result.rows))
    if result.problems:
        return result
    result.problems, result.release = release(layout, partial(_stage, layout, tables, metadata, allow_removals))
    return result


def _stage(layout: Layout, tables: Tables, metadata: dict[str, Any], allow_removals: bool, folder: Path) -> list[Problem]:
    """Write every output into `folder` and verify them there. Runs under the build lock, so the events it
    compares with are the ones still published when this build switches build/current."""
    problems = [] if allow_removals else removal_problems(layout, tables["events"])
    if problems:
        return problems
    for table in TABLES:
        write_table_files(table, tables[table.name], folder)
        columns = table_metadata(metadata, database_name(layout), table.name)["columns"]
        write_parquet(table, tables[table.name], folder / f"{table.name}.parquet", columns)
    database = write_sqlite(tables, folder / layout.database.name)
    descriptor = datapackage_descriptor(layout, metadata, folder=layout.current)
    written = write_datapackage(descriptor, folder / layout.datapackage.name)
    problems = [Problem(layout.relative(layout.database), 0, 0, "package-invalid", message)
                for message in foreign_key_problems(database)]
    problems += _query_problems(layout, database, metadata)
    problems += validate_package(written, folder, shown_in=f"{layout.relative(layout.current)}/")
    if not problems:
        problems += _stage_overview(layout, database, metadata, folder)
    if not problems:
        write_package_zip(folder, folder / PACKAGE_ZIP)
        copy_source_texts(layout, [row["file"] for row in tables["sources"]], folder)
        write_chart(database, metadata, folder / CHART)
    return problems


def _stage_overview(layout: Layout, database: Path, metadata: dict[str, Any], folder: Path) -> list[Problem]:
    """The README's overview table, as overview.md in the release (`make readme` copies it into README.md)."""
    try:
        write_overview(database, metadata, folder / layout.overview.name)
    except OverviewError as error:
        return [Problem(layout.relative(layout.metadata), 0, 0, "metadata-invalid", str(error))]
    return []


def _query_problems(layout: Layout, database: Path, metadata: dict[str, Any]) -> list[Problem]:
    """Canned queries in metadata.yml that would fail in Datasette, for example after a column was renamed."""
    queries = metadata["databases"][database_name(layout)].get("queries") or {}
    failing = statement_problems(database, {name: query["sql"] for name, query in queries.items()})
    return [Problem(layout.relative(layout.metadata), 0, 0, "metadata-invalid", f"canned query '{name}': {error}")
            for name, error in sorted(failing.items())]
