"""Export, build: check -> flatten -> assertions -> write every output into a new folder -> verify -> publish.

Nothing is written unless `check_dataset` finds no problem and the tables meet assertions.yml. Every output
(CSV, JSON and Parquet per table, the SQLite database, datapackage.json, the whole package as a zip, the source
texts, the releases chart, overview.md, and the manifest that export/incremental.py reads) is written into a
staging folder inside build/, where the package is validated with Frictionless, the database's foreign keys are
checked and every canned query is compiled. Only then does export/publish.py make that folder the live release,
with one rename of build/current. A failed build leaves build/current as it was; nothing outside build/ is written.

This process writes each table's CSV and JSON files, while a second one makes the database and everything read
from it (export/database.py), in a full build of fewer than 50,000 records a third checks each table as soon as it
is written (export/package_verifier.py), and the zip's members are compressed in threads (export/package_zip.py); then
export/release_files.py writes the rest of the release and takes the verdict. When only a few records changed
since the live release, the files are made from that release's (export/incremental.py), with the same bytes as a
full build: unchanged files are linked, their zip entries copied, and the package is checked against that
release's (export/package_recheck.py).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from functools import partial
from pathlib import Path

from belarus_releases.check.dataset import CheckResult, check_dataset
from belarus_releases.export.assertions import removal_problems, size_problems
from belarus_releases.export.build_state import Build, BuildResult, Progress
from belarus_releases.export.database import ORDER, DatabaseJob, Rows, incremental_job, job
from belarus_releases.export.downloads import PACKAGE_ZIP, link_or_copy
from belarus_releases.export.files import Values, write_table_values
from belarus_releases.export.flatten import flatten_values, table_values
from belarus_releases.export.incremental import Doubt, Plan, build_key, input_digests, plan, record_digests, verify
from belarus_releases.export.package_verifier import PackageVerifier
from belarus_releases.export.package_zip import PackageZip
from belarus_releases.export.publish import EarlySync, release
from belarus_releases.export.release_files import descriptor_written, finish
from belarus_releases.export.splice import rows_differ, splice_table
from belarus_releases.export.sqlite import read_only
from belarus_releases.layout import Layout
from belarus_releases.memory import give_back_free_memory, lasting_objects, setting_aside
from belarus_releases.problems import Problem
from belarus_releases.record import record_id
from belarus_releases.tables import BY_NAME, TABLES

__all__ = ["STEPS", "BuildResult", "build_dataset"]

STEPS = ("check", *(table.name for table in ORDER), "validate", "database", "package")
"""The steps `progress` is told of, in order."""


@setting_aside()  # what the last check or build set aside (memory.py) is given back to the collector
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
        database.make_ahead(layout)  # and what it can make of a rebuild before there is one, too
        result = _checked_and_built(layout, database, allow_removals, told, cache=cache, incremental=True)
        if result is None:  # the live release could not give a full build's bytes: everything again, in full
            database.restart()  # the process beside it was stopped when the doubt was found
            told("check")
            result = _checked_and_built(layout, database, allow_removals, told, cache=cache, incremental=False)
        assert result is not None, "a full build is never doubted"
        return result
    finally:
        database.close()


def _checked_and_built(layout: Layout, database: DatabaseJob, allow_removals: bool, progress: Progress, *,
                       cache: bool, incremental: bool) -> BuildResult | None:
    """The build, incremental when the live release allows it (`incremental`); None when that release turned out
    unable to give a full build's bytes (a Doubt: found while the release is made, once the records may be gone)."""
    result = BuildResult(check_dataset(layout, cache=cache))
    result.problems = list(result.check.problems)
    # metadata.yml and assertions.yml were read and checked by check_dataset, with everything else
    metadata, assertions = result.check.metadata, result.check.assertions
    if not result.ok or metadata is None or assertions is None:
        return result
    sources = input_digests(layout, result.check.digests)
    event_ids = [record_id(loaded) for loaded in result.check.records]
    key, digests = build_key(sources), record_digests(layout, result.check, event_ids)
    build = Build(layout, result, metadata, assertions, allow_removals, progress, database, key,
                   digests, sources, event_ids, plan(layout, key, digests) if incremental else None)
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
    return None if build.doubted else result


def _flatten(build: Build) -> list[Problem]:
    """The tables made; the records are then let go (their memory used again as the files are written and
    verified: at 100,000 records, the build's process then peaked at 693 MiB, not 843)."""
    with lasting_objects():  # the rows live until written
        build.tables = flatten_values(build.result.check)
    _let_go_of_records(build)
    build.result.rows = {name: len(rows) for name, rows in build.tables.items()}
    return list(size_problems(build.assertions, build.result.rows))


def _let_go_of_records(build: Build) -> None:
    """The check's records and quotes let go, once nothing after needs them: the rest of the build runs beside the
    database process, and together they must stay small. The build keeps what it reports of the check (its
    problems and counts) and the registries."""
    build.result.check = replace(build.result.check, records=[], quote_texts={})
    give_back_free_memory()


def _stage(build: Build, folder: Path) -> list[Problem]:
    """Write every output into `folder` and verify them there. Runs under the build lock, so the events it
    compares with are the ones still published when this build switches build/current."""
    if build.plan is None:
        assert build.tables is not None, "a full build's tables are made before build/ is touched"
        return _removals(build, None) or _full(build, build.tables, folder)
    try:
        return _incremental(build, build.plan, folder)
    except Doubt as doubt:  # nothing is published; build_dataset starts again, in full
        build.doubted = True
        build.database.close()  # stopped now, not writing into the folder while it is removed
        return [Problem(build.layout.relative(build.layout.current), 0, 0, "build-failed",
                        f"the live release cannot be built on: {doubt}")]


def _removals(build: Build, published: Collection[str] | None) -> list[Problem]:
    """The events build/current publishes that this build would not (`published`: their ids, when known)."""
    return [] if build.allow_removals else removal_problems(build.layout, build.event_ids, published)


def _full(build: Build, tables: dict[str, list[Values]], folder: Path) -> list[Problem]:
    """Each table's files written, then given to the processes beside the build and to the zip's threads."""
    descriptor = descriptor_written(build, folder)
    build.database.submit(job(build.layout, build.metadata, folder, Rows()))
    if build.verifier is not None:
        build.verifier.submit(descriptor, folder)
    with closing(PackageZip(folder, None, PACKAGE_ZIP)) as package, closing(EarlySync()) as syncing:
        for table in ORDER:
            build.progress(table.name)
            rows = tables.pop(table.name)  # dropped once written: the dict is the build's own
            build.database.ready(table.name, rows)  # first: the database process, last to finish, starts sooner
            write_table_values(table, rows, folder)
            if build.verifier is not None:
                build.verifier.written(table.name)
            written = [f"{table.name}.csv", f"{table.name}.json"]
            package.add(written)
            syncing.add([folder / name for name in written])
            del rows
        return finish(build, folder, package, syncing=syncing)


def _incremental(build: Build, plan: Plan, folder: Path) -> list[Problem]:
    """The release made from the previous one, whose files are checked against its manifest meanwhile, on another
    core (hashlib lets go of the GIL): a file that differs is a Doubt, raised before anything is published."""
    if plan.previous != build.layout.current.resolve():
        raise Doubt("build/current changed since the plan was made")
    # (its files are checked against its manifest meanwhile: a doubt builds in full, comparing with its events.csv)
    problems = _removals(build, plan.published)
    if problems:
        return problems
    with ThreadPoolExecutor(1) as pool:
        verified = pool.submit(verify, plan)
        problems = _from_previous(build, plan, folder, verified.result)
        verified.result()
    return problems


def _from_previous(build: Build, plan: Plan, folder: Path, settled: Callable[[], None]) -> list[Problem]:
    """The files from the previous release's: the changed records' rows made again, the others' copied. The
    records are let go once their rows are made and the database process has its work, which waits for nothing
    else (a doubt found later starts the whole build again): at 100,000 records, the build's process then held
    100 MiB less beside the database process."""
    changed = _changed_rows(build.result.check, plan)
    build.result.rows = {table.name: int(plan.manifest["rows"][table.name]) for table in TABLES}
    previous_database = plan.previous / build.layout.database.name
    with read_only(previous_database) as previous:
        touched = frozenset(name for name, rows in changed.items()
                            if rows_differ(BY_NAME[name], previous, rows, plan.dropped))
        build.database.submit(incremental_job(build.layout, build.metadata, folder, previous_database, changed,
                                              plan.dropped, touched, plan.manifest.get("releases")))
        _let_go_of_records(build)
        problems = _splice(build, plan, folder, previous, touched, changed)
    if problems:
        return problems
    for table in TABLES:
        if table.name in touched:
            continue
        for extension in ("csv", "json", "parquet"):
            link_or_copy(plan.previous / f"{table.name}.{extension}", folder / f"{table.name}.{extension}")
    descriptor_written(build, folder)
    with closing(PackageZip(folder, plan.previous, PACKAGE_ZIP)) as package:
        return finish(build, folder, package, plan, settled)


def _changed_rows(check: CheckResult, plan: Plan) -> dict[str, list[Values]]:
    """The rows of the changed records, by table (made here, so that nothing of the records outlives the call)."""
    changed_records = [loaded.data for loaded in check.records if record_id(loaded) in plan.changed]
    return {table.name: table_values(table, changed_records, [], [], check.quote_texts)
            for table in TABLES if table.contributor}


def _splice(build: Build, plan: Plan, folder: Path, previous: sqlite3.Connection, touched: frozenset[str],
            changed: dict[str, list[Values]]) -> list[Problem]:
    for table in ORDER:
        build.progress(table.name)
        if table.name in touched:
            spliced = splice_table(table, previous, folder, plan.previous, changed[table.name], plan.dropped)
            build.result.rows[table.name] = spliced.rows
    return list(size_problems(build.assertions, build.result.rows))
