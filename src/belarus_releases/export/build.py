"""Export, build: check -> flatten -> assertions -> write every output into a new folder -> verify -> publish.

Nothing is written unless `check_dataset` finds no problem and the tables meet assertions.yml. Every output
(CSV, JSON and Parquet per table, the SQLite database, datapackage.json, the whole package as a zip, the source
texts, the releases chart, overview.md, and the manifest that export/incremental.py reads) is written into a
staging folder inside build/, where the package is validated with Frictionless, the database's foreign keys are
checked and every canned query is compiled. Only then does export/publish.py make that folder the live release,
with one rename of build/current. A failed build leaves build/current as it was; nothing outside build/ is written.

This process writes the CSV and JSON files, while a second one makes the database and everything read from it
(export/database.py), and in a full build a third checks each table as soon as it is written
(export/package_verifier.py); the zip's members are compressed in threads while the package is checked
(export/package_zip.py). When only a few records changed since the live release, the files are made from that
release's (export/incremental.py), with the same bytes as a full build: unchanged files are linked, their zip
entries copied, and the package is checked against that release's (export/package_recheck.py).
"""

from __future__ import annotations

import gc
import os
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from belarus_releases.check.cache_files import give_back_free_memory
from belarus_releases.check.dataset import CheckResult, check_dataset
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.export.assertions import removal_problems, size_problems
from belarus_releases.export.database import ORDER, DatabaseJob, Rows, incremental_job, job
from belarus_releases.export.datapackage import datapackage_descriptor, verified_package, write_datapackage
from belarus_releases.export.downloads import (
    DATAPACKAGE,
    PACKAGE_ZIP,
    ZIPPED,
    copy_source_texts,
    link_or_copy,
    table_files,
)
from belarus_releases.export.files import Values, write_table_values
from belarus_releases.export.flatten import flatten_values, inputs, source_entries, table_values
from belarus_releases.export.incremental import (
    Doubt,
    Plan,
    build_key,
    file_entry,
    input_digests,
    plan,
    record_digests,
    same_file,
    verify,
    write_manifest,
)
from belarus_releases.export.package_check import Dialects
from belarus_releases.export.package_verifier import PackageVerifier
from belarus_releases.export.package_zip import PackageZip
from belarus_releases.export.publish import release
from belarus_releases.export.splice import rows_differ, splice_table
from belarus_releases.export.sqlite import read_only
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import BY_NAME, TABLES

Progress = Callable[[str], None]
"""Told the name of each step as it starts (the CLI shows a progress bar on a terminal)."""
STEPS = ("check", *(table.name for table in ORDER), "validate", "database", "package")
"""The steps `progress` is told of, in order."""


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
class _Build:
    """One build's inputs, as the stage that runs under the build lock needs them."""

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


def build_dataset(layout: Layout, *, allow_removals: bool = False, cache: bool = False,
                  progress: Progress | None = None) -> BuildResult:
    """Check the dataset and, when it has no problem, publish every output as one new release.

    :param allow_removals: publish even when events that build/current publishes have no record any more.
    :param cache: let the check reuse and keep what it found in unchanged files (build/cache/).
    :param progress: told of each step as it starts."""
    told = progress or (lambda _: None)
    told("check")
    database = DatabaseJob()  # started first: its start-up overlaps the check
    try:
        return _checked_and_built(layout, database, allow_removals, told, cache=cache)
    finally:
        database.close()


def _checked_and_built(layout: Layout, database: DatabaseJob, allow_removals: bool, progress: Progress, *,
                       cache: bool) -> BuildResult:
    result = BuildResult(check_dataset(layout, cache=cache))
    result.problems = list(result.check.problems)
    # metadata.yml and assertions.yml were read and checked by check_dataset, with everything else
    metadata, assertions = result.check.metadata, result.check.assertions
    if not result.ok or metadata is None or assertions is None:
        return result
    with _collector_spares_the_check():
        sources = input_digests(layout)
        key, digests = build_key(sources), record_digests(layout, result.check)
        event_ids = [str(loaded.data["id"]) for loaded in result.check.records]
        build = _Build(layout, result, metadata, assertions, allow_removals, progress, database, key,
                       digests, sources, event_ids, plan(layout, key, digests))
        try:
            if build.plan is None:  # a full build: the tables are checked against assertions.yml before build/ is touched
                build.verifier = PackageVerifier.started(len(event_ids))  # its start overlaps the flattening
                result.problems = _flatten(build)
                if result.problems:
                    return result
            result.problems, result.release = release(layout, partial(_stage, build))
        finally:
            if build.verifier is not None:
                build.verifier.close()
    return result


@contextmanager
def _collector_spares_the_check() -> Iterator[None]:
    """Python's cycle collector leaves the objects that exist now (the check's records) alone for the block: they
    live as long as the build, and each full collection would walk them all again (a third of flattening 10,000
    records; more for 100,000). What the build makes is collected as usual."""
    frozen_before = gc.get_freeze_count()
    gc.freeze()
    try:
        yield
    finally:
        if not frozen_before:  # someone else's freeze is theirs to undo
            gc.unfreeze()


def _flatten(build: _Build) -> list[Problem]:
    """The tables made; the records are then let go (their memory used again as the files are written and
    verified: at 100,000 records, the build's process then peaked at 693 MiB, not 843)."""
    build.tables = flatten_values(build.result.check)
    _let_go_of_records(build)
    build.result.rows = {name: len(rows) for name, rows in build.tables.items()}
    return list(size_problems(build.assertions, build.result.rows))


def _let_go_of_records(build: _Build) -> None:
    """The check's records and quotes let go, once nothing after needs them: the rest of the build runs beside the
    database process, and together they must stay small. The build keeps what it reports of the check (its
    problems and counts) and the registries."""
    build.result.check = replace(build.result.check, records=[], quote_texts={})
    give_back_free_memory()


def _stage(build: _Build, folder: Path) -> list[Problem]:
    """Write every output into `folder` and verify them there. Runs under the build lock, so the events it
    compares with are the ones still published when this build switches build/current."""
    problems = [] if build.allow_removals else removal_problems(build.layout, build.event_ids)
    if problems:
        return problems
    if build.plan is not None:
        try:
            return _incremental(build, build.plan, folder)
        except Doubt:  # the previous release cannot give a full build's bytes: build in full
            build.database.restart()
            for name in os.listdir(folder):
                os.unlink(folder / name)
    if build.tables is None:
        problems = _flatten(build)
        if problems:
            return problems
    return _full(build, build.tables or {}, folder)


def _full(build: _Build, tables: dict[str, list[Values]], folder: Path) -> list[Problem]:
    descriptor = _descriptor_written(build, folder)
    build.database.submit(job(build.layout, build.metadata, folder, Rows()))
    if build.verifier is not None:
        build.verifier.submit(descriptor, folder)
    for table in ORDER:
        build.progress(table.name)
        rows = tables.pop(table.name)  # dropped once written: the dict is the build's own
        write_table_values(table, rows, folder)
        build.database.ready(table.name, rows)
        if build.verifier is not None:
            build.verifier.written(table.name)
        del rows
    return _finish(build, folder)


def _descriptor_written(build: _Build, folder: Path) -> Path:
    """datapackage.json, first: it depends on no table (the package's verifier reads it while the tables are written)."""
    descriptor = datapackage_descriptor(build.layout, build.metadata, folder=build.layout.current)
    return write_datapackage(descriptor, folder / DATAPACKAGE)


def _incremental(build: _Build, plan: Plan, folder: Path) -> list[Problem]:
    """The release made from the previous one, whose files are checked against its manifest meanwhile, on another
    core (hashlib lets go of the GIL): a file that differs is a Doubt, raised before anything is published."""
    if plan.previous != build.layout.current.resolve():
        raise Doubt("build/current changed since the plan was made")
    with ThreadPoolExecutor(1) as pool:
        verified = pool.submit(verify, plan)

        def settled() -> None:  # no doubt left: a full build (which needs the records) can no longer be asked for
            verified.result()
            _let_go_of_records(build)

        problems = _from_previous(build, plan, folder, settled)
        verified.result()
    return problems


def _from_previous(build: _Build, plan: Plan, folder: Path, settled: Callable[[], None]) -> list[Problem]:
    """The files from the previous release's: the changed records' rows made again, the others' copied."""
    changed = _changed_rows(build.result.check, plan)
    build.result.rows = {table.name: int(plan.manifest["rows"][table.name]) for table in TABLES}
    previous_database = plan.previous / build.layout.database.name
    with read_only(previous_database) as previous:
        touched = frozenset(name for name, rows in changed.items()
                            if rows_differ(BY_NAME[name], previous, rows, plan.dropped))
        build.database.submit(incremental_job(build.layout, build.metadata, folder, previous_database, changed,
                                              plan.dropped, touched, plan.manifest.get("releases")))
        problems = _splice(build, plan, folder, previous, touched, changed)
    if problems:
        return problems
    for table in TABLES:
        if table.name in touched:
            continue
        for extension in ("csv", "json", "parquet"):
            link_or_copy(plan.previous / f"{table.name}.{extension}", folder / f"{table.name}.{extension}")
    _descriptor_written(build, folder)
    return _finish(build, folder, plan, settled)


def _changed_rows(check: CheckResult, plan: Plan) -> dict[str, list[Values]]:
    """The rows of the changed records, by table (made here, so that nothing of the records outlives the call)."""
    records, _, _, quote_texts = inputs(check)
    changed_records = [record for record in records if record["id"] in plan.changed]
    return {table.name: table_values(table, changed_records, [], [], quote_texts) for table in TABLES if table.contributor}


def _splice(build: _Build, plan: Plan, folder: Path, previous: sqlite3.Connection, touched: frozenset[str],
            changed: dict[str, list[Values]]) -> list[Problem]:
    for table in ORDER:
        build.progress(table.name)
        if table.name in touched:
            spliced = splice_table(table, previous, folder, plan.previous, changed[table.name], plan.dropped)
            build.result.rows[table.name] = spliced.rows
    return list(size_problems(build.assertions, build.result.rows))


def _finish(build: _Build, folder: Path, plan: Plan | None = None,
            settled: Callable[[], None] = lambda: None) -> list[Problem]:
    """Everything after the table files: the descriptor, the verification, the downloads and the manifest. The
    zip is compressed in threads while the package is checked, and the digests of the files made so far are
    taken while the database process works. `settled` is told when nothing is left to doubt about the previous
    release, before the wait for the database process."""
    package = PackageZip(folder, plan.previous if plan else None, PACKAGE_ZIP)
    try:
        invalid, dialects = _verified(build, folder, plan, package)
        digests = _digests_so_far(folder, plan)
    finally:
        package.close()
    settled()
    checked = build.database.result()
    problems = checked.foreign_keys + checked.queries + invalid
    if not problems:
        problems += checked.overview
    if not problems:
        build.progress("package")
        files = [str(entry["file"]) for entry in source_entries(build.result.check)]
        same = _same_sources(build, files, plan)
        copy_source_texts(build.layout, files, folder, same)
        if plan is not None:  # a source linked from the previous release: its verified entry, not read again
            digests |= {name: plan.manifest["files"][name] for name in same}
        write_manifest(folder, build.key, build.digests, build.result.rows, digests, dialects, checked.releases_digest)
    return problems


def _verified(build: _Build, folder: Path, plan: Plan | None,
              package: PackageZip) -> tuple[list[Problem], Dialects | None]:
    """The package checked (with the zip's CSV and JSON members compressed meanwhile), then, once the database
    process has written the Parquet files, the zip."""
    package.add([DATAPACKAGE, *table_files(("csv", "json"))])
    build.progress("validate")
    shown_in = f"{build.layout.relative(build.layout.current)}/"
    if build.verifier is not None:
        verdict = build.verifier.verified(folder / DATAPACKAGE, folder, shown_in=shown_in)
    else:
        verdict = verified_package(folder / DATAPACKAGE, folder, shown_in=shown_in,
                                   previous=plan.previous if plan else None,
                                   dialects=plan.manifest.get("dialects") if plan else None)
    build.progress("database")
    build.database.parquet_written()
    package.add(table_files(("parquet",)))
    package.write(folder / PACKAGE_ZIP, ZIPPED)
    return verdict


def _same_sources(build: _Build, files: list[str], plan: Plan | None) -> dict[str, Path]:
    """The previous release's copy of each source document whose bytes are the same now (its verified digest in
    the manifest is the one just taken of the file in sources/)."""
    if plan is None:
        return {}
    previous, folder = plan.manifest["files"], build.layout.relative(build.layout.sources)
    return {name: plan.previous / name for name in files
            if name in previous and previous[name][1] == build.inputs.get(f"{folder}/{name}")}


def _digests_so_far(folder: Path, plan: Plan | None) -> dict[str, list[Any]]:
    """The size and SHA-256 of each file that is final by now (the tables' files, the descriptor and the zip): from
    the previous release's manifest for a file linked from it."""
    linked = plan.manifest["files"] if plan else {}
    return {name: linked[name] if plan and name in linked and same_file(plan.previous / name, folder / name)
            else file_entry(folder / name) for name in (DATAPACKAGE, PACKAGE_ZIP, *table_files())}
