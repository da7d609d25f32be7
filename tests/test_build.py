"""build: check first, write nothing on any problem, publish everything at once, same records -> same bytes.

Publishing itself (crashes at every step, kill -9, the lock, leftovers) is tested in test_publish.py."""

from __future__ import annotations

import copy
import errno
import gc
import json
import os
import re
import shutil
import sqlite3
import subprocess
import weakref
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from belarus_releases import memory
from belarus_releases.check.dataset import check_dataset
from belarus_releases.cli import cli
from belarus_releases.export import build as build_module
from belarus_releases.export import database as database_module
from belarus_releases.export import database_checks, database_job, database_work, datapackage, package_verifier, release_files
from belarus_releases.export import flatten as flatten_module
from belarus_releases.export.build import BuildResult, build_dataset
from belarus_releases.export.downloads import CHART
from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES, Table
from build_support import at_once, copy_repository, dump, edit_record, nothing_built, published, snapshot
from test_memory import collectable

SMITH = "2025-02-12-smith-visits-minsk"
BAD_QUOTE = ("Смит увёз с собой трёх", "Смит увёз с собой пятерых")


@pytest.fixture
def dataset(fixture_dataset: Layout) -> Layout:
    """The build fixture dataset, checked (once, in conftest.py) and never built."""
    return fixture_dataset


@pytest.fixture
def built(fixture_built: Layout) -> Layout:
    """The same, with one build published: a copy of the one build made for every test."""
    return fixture_built


EXPECTED_OUTPUTS = {f"{table.name}.{ext}" for table in TABLES for ext in ("csv", "json", "parquet")} | {
    "belarus-releases.db", "datapackage.json", "overview.md", "belarus-releases.zip", "releases-over-time.svg",
    ".build-manifest.json"}


def test_build_writes_every_output_into_one_release(dataset: Layout) -> None:
    before = {path: dataset.root.joinpath(path).read_bytes() for path in ("README.md", "datapackage.json")}
    result = build_dataset(dataset)
    assert result.ok, [p.to_text() for p in result.problems]
    assert result.release is not None and result.release.parent == dataset.releases
    assert dataset.current.resolve() == result.release.resolve()
    source_texts = {path.name for path in dataset.sources.glob("*.txt")}
    assert {path.name for path in result.outputs} == EXPECTED_OUTPUTS | source_texts
    assert all(path.is_file() and path.parent == result.release for path in result.outputs)
    assert result.rows["events"] == len(list(dataset.records.glob("*.yml")))
    assert sorted(path.name for path in dataset.build.iterdir()) == [".lock", "current", "releases"]  # no staging left
    assert {path: dataset.root.joinpath(path).read_bytes() for path in before} == before  # nothing outside build/


def test_the_build_never_changes_what_the_check_returned(dataset: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each stage returns new results: a cache of checked files (and any later reader) relies on it.
    checked: list[tuple[Any, Any]] = []

    def check_and_keep(layout: Layout, **options: Any) -> Any:
        result = check_dataset(layout, **options)
        checked.append((result, copy.deepcopy(result)))
        return result

    monkeypatch.setattr(build_module, "check_dataset", check_and_keep)
    assert build_dataset(dataset).ok
    (result, before), = checked
    assert result == before
    assert [loaded.data for loaded in result.records] == [loaded.data for loaded in before.records]


def test_the_build_lets_the_records_go_and_keeps_the_collector_off_the_rows(dataset: Layout,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # Half of a large build's memory while the database process works beside it: only the tables need them.
    checked: list[weakref.ref[Any]] = []
    written: list[bool] = []
    real_write = build_module.write_table_values

    def check_and_watch(layout: Layout, **options: Any) -> Any:
        result = check_dataset(layout, **options)
        checked.append(weakref.ref(result))
        return result

    def write_and_look(table: Table, rows: Any, folder: Path) -> None:
        # the records gone, and the rows set aside from the collector until written (memory.py)
        written.append(checked[0]() is None and gc.isenabled() and not collectable(rows))
        real_write(table, rows, folder)

    monkeypatch.setattr(build_module, "check_dataset", check_and_watch)
    monkeypatch.setattr(build_module, "write_table_values", write_and_look)
    monkeypatch.setattr(memory, "MANY_OBJECTS", 0)  # this dataset's rows count as many
    result = build_dataset(dataset)
    assert result.ok and len(written) == len(TABLES) and all(written)
    assert (result.check.records, result.check.quote_texts) == ([], {})
    assert result.check.files_checked == check_dataset(dataset).files_checked > 0


@pytest.mark.parametrize("descriptor", ["build/current/datapackage.json", "datapackage.json"])
def test_built_package_validates_with_frictionless(built: Layout, descriptor: str) -> None:
    """The release is a package on its own; the committed descriptor reads the same files through build/current."""
    from frictionless import Package

    report = Package(str(built.root / descriptor)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type", "message"])
    assert len(report.tasks) == len(TABLES)


def test_the_release_descriptor_is_the_committed_one_with_paths_inside_the_release(built: Layout, real: Layout) -> None:
    committed = real.datapackage.read_text(encoding="utf-8")
    assert committed.count('"path": "build/current/') == len(TABLES)
    inside = committed.replace('"path": "build/current/', '"path": "')
    assert built.output("datapackage.json").read_text(encoding="utf-8") == inside


def test_built_database_passes_foreign_key_check(built: Layout) -> None:
    import sqlite3

    connection = sqlite3.connect(built.database)
    try:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert connection.execute("select count(*) from events").fetchone()[0] == 5
    finally:
        connection.close()


def test_the_database_holds_exactly_what_the_json_files_say(built: Layout) -> None:
    """The database process is sent the rows the files were written from, not the files: the same rows, in file
    order, each value as the JSON file has it (lists as the CSV's JSON text), and no file of them left behind."""
    from belarus_releases.export.files import stored

    release = built.current.resolve()
    connection = sqlite3.connect(built.database)
    try:
        for table in TABLES:
            rows = json.loads((release / f"{table.name}.json").read_text(encoding="utf-8"))
            expected = list(stored(table, [tuple(row[name] for name in table.column_names) for row in rows]))
            columns = ", ".join(f'"{name}"' for name in table.column_names)
            assert connection.execute(f'SELECT {columns} FROM "{table.name}" ORDER BY rowid').fetchall() == expected
    finally:
        connection.close()
    assert not [name for name in os.listdir(release) if name.endswith(".pickle")]


def test_two_builds_give_identical_bytes_and_dump(built: Layout) -> None:
    first, first_dump, first_release = published(built), dump(built.database), built.current.resolve()
    result = build_dataset(built)
    assert result.ok
    second = published(built)
    assert built.current.resolve() != first_release  # a new release, with the same content
    assert set(first) == set(second)
    for name in first:
        if not name.endswith(".db"):
            assert first[name] == second[name], name
    assert dump(built.database) == first_dump


def test_a_full_build_has_its_package_checked_beside_it_with_the_same_outcome(
        dataset: Layout, fixture_template: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The verifier beside the build (export/package_verifier.py) checks the package, not the build; without it, the
    build checks it itself and publishes the same bytes."""
    def not_here(*_: Any, **__: Any) -> Any:
        raise AssertionError("the build checked the package itself")

    with monkeypatch.context() as patched:
        patched.setattr(release_files, "verified_package", not_here)
        patched.setattr(package_verifier, "fast_verdict", not_here)
        patched.setattr(datapackage, "fast_verdict", not_here)
        assert build_dataset(dataset).ok
    alone = copy_repository(fixture_template, tmp_path / "alone", with_build=False)
    monkeypatch.setattr(package_verifier, "MOST_RECORDS", 0)
    assert build_dataset(alone).ok
    assert published(alone) == published(dataset)


def test_a_full_build_zips_and_hands_on_each_table_as_soon_as_it_is_written(
        dataset: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """So that the zip's threads and the processes beside the build work while it writes the next tables."""
    events: list[str] = []
    real_write, real_add = build_module.write_table_values, build_module.PackageZip.add
    monkeypatch.setattr(build_module, "write_table_values",
                        lambda table, *rest: (events.append(f"write {table.name}"), real_write(table, *rest))[1])
    monkeypatch.setattr(build_module.PackageZip, "add",
                        lambda zipped, names: (events.append(f"zip {names[0]}"), real_add(zipped, names))[1])
    monkeypatch.setattr(package_verifier.PackageVerifier, "written",
                        lambda verifier, table: (events.append(f"verify {table}"), verifier._send(table))[1])
    assert build_dataset(dataset).ok
    first, second = build_module.ORDER[0].name, build_module.ORDER[1].name
    assert events[:6] == [f"write {first}", f"verify {first}", f"zip {first}.csv",
                          f"write {second}", f"verify {second}", f"zip {second}.csv"]
    assert events[-2:] == ["zip datapackage.json", f"zip {TABLES[0].name}.parquet"]  # the rest; the Parquet files once written


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 command-line shell is not installed")
def test_two_builds_give_the_same_sqlite3_dump(built: Layout) -> None:
    def cli_dump() -> bytes:
        return subprocess.run(["sqlite3", str(built.database), ".dump"], check=True, capture_output=True).stdout

    first = cli_dump()
    assert build_dataset(built).ok
    assert cli_dump() == first


def test_invalid_record_changes_nothing(built: Layout) -> None:
    before = snapshot(built)
    edit_record(built, SMITH, *BAD_QUOTE)
    result = build_dataset(built)
    assert not result.ok
    assert "quote-not-found" in {p.type for p in result.problems}
    assert result.outputs == [] and result.release is None
    assert snapshot(built) == before


def test_invalid_record_without_a_previous_build_writes_nothing(dataset: Layout) -> None:
    edit_record(dataset, SMITH, *BAD_QUOTE)
    before = snapshot(dataset)
    assert not build_dataset(dataset).ok
    assert not dataset.build.exists()
    assert snapshot(dataset) == before


def _build_with_metadata_edit(built: Layout, old: str, new: str) -> BuildResult:
    """Build after replacing `old` with `new` in metadata.yml, checking that nothing built changed."""
    before = snapshot(built)
    text = built.metadata.read_text(encoding="utf-8")
    assert old in text
    built.metadata.write_text(text.replace(old, new, 1), encoding="utf-8")
    result = build_dataset(built)
    assert snapshot(built) == before
    return result


def test_invalid_metadata_changes_nothing(built: Layout) -> None:
    result = _build_with_metadata_edit(built, "          title: English headline", "          titel: English headline")
    assert {p.type for p in result.problems} == {"metadata-invalid"}


def test_a_canned_query_that_does_not_compile_fails_the_build(built: Layout) -> None:
    result = _build_with_metadata_edit(built, "              releases.at_least,\n", "              releases.at_least_minimum,\n")
    assert [(p.type, p.file) for p in result.problems] == [("metadata-invalid", "metadata.yml")]
    assert "releases_over_time" in result.problems[0].message and "at_least_minimum" in result.problems[0].message


def test_a_package_that_fails_validation_is_not_published(built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """A build bug that breaks a foreign key is caught by SQLite and Frictionless, and nothing moves."""
    real_values = flatten_module.table_values

    def broken(table: Table, *args: Any) -> Any:
        rows = real_values(table, *args)
        if table.name == "quotes" and rows:
            rows[0] = (*rows[0][:2], "nowhere.txt", *rows[0][3:])  # its source_file
        return rows

    # the rows of a full build (flatten_values) and of the changed records in an incremental one
    monkeypatch.setattr(flatten_module, "table_values", broken)
    monkeypatch.setattr(build_module, "table_values", broken)
    before = snapshot(built)
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")  # so that a publish would show
    result = build_dataset(built)
    assert not result.ok
    assert {p.type for p in result.problems} == {"package-invalid"}
    assert any(p.file == "build/current/quotes.csv" and "foreign-key" in p.message for p in result.problems)
    assert any(p.file == "build/current/belarus-releases.db" for p in result.problems)
    assert snapshot(built) == before


@pytest.mark.parametrize("incremental", [False, True])
def test_the_database_process_checks_the_foreign_keys_while_it_compiles_and_runs_the_queries(
        built: Layout, incremental: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Both only read the finished database: the foreign keys on the other core (0.6 s at 100,000 records)."""
    monkeypatch.setattr(database_job, "SEPARATE_PROCESS", False)  # so that the patches below are in effect
    compiling = at_once(monkeypatch, database_checks, "statement_problems", "foreign_key_problems")
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")
    if not incremental:
        shutil.rmtree(built.build)
    result = build_dataset(built)
    assert result.ok, [p.to_text() for p in result.problems]
    assert compiling.is_set()


def test_a_rebuild_checks_the_foreign_keys_of_the_tables_whose_rows_changed_unless_an_event_is_gone(
        built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other tables hold the previous release's rows, checked in its build, and what they refer to is still
    there; once an event is gone, anything may have referred to it."""
    monkeypatch.setattr(database_job, "SEPARATE_PROCESS", False)  # so that the patch below is in effect
    checked: list[list[str] | None] = []
    real = database_checks.foreign_key_problems

    def spy(path: Path, tables: Any = None) -> list[str]:
        checked.append(None if tables is None else list(tables))
        return real(path, tables)

    monkeypatch.setattr(database_checks, "foreign_key_problems", spy)
    made_from_previous: list[Path] = []  # so that each rebuild is shown incremental
    real_assemble = database_work.assemble
    monkeypatch.setattr(database_work, "assemble",
                        lambda path, *rest: made_from_previous.append(path) or real_assemble(path, *rest))
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")  # the events table's rows alone
    assert build_dataset(built).ok and checked == [["events"]]
    checked.clear()
    old, new = "2025-08-15-trump-lukashenko-call", "2025-08-15-trump-lukashenko-phone-call"  # another id: one gone
    text = (built.records / f"{old}.yml").read_text(encoding="utf-8")
    (built.records / f"{new}.yml").write_text(text.replace(f"id: {old}", f"id: {new}"), encoding="utf-8")
    (built.records / f"{old}.yml").unlink()
    result = build_dataset(built, allow_removals=True)
    assert result.ok, [p.to_text() for p in result.problems]
    assert checked == [None] and len(made_from_previous) == 2


def test_a_rebuild_runs_the_releases_query_only_when_a_column_it_reads_changed(
        built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """Otherwise it would give the previous release's rows: overview.md and the chart are that release's."""
    monkeypatch.setattr(database_job, "SEPARATE_PROCESS", False)  # so that the patch below is in effect
    ran: list[str] = []
    real = database_checks.run_query
    monkeypatch.setattr(database_checks, "run_query", lambda database, sql: ran.append(sql) or real(database, sql))
    previous = built.current.resolve()
    edit_record(built, SMITH, "summary: >-\n", "summary: >-\n  Edited.")  # a column the query does not read
    result = build_dataset(built)
    assert result.ok and result.release and ran == []
    assert all(os.path.samefile(previous / name, result.release / name) for name in ("overview.md", CHART))
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")  # one it reads
    assert build_dataset(built).ok and len(ran) == 1
    assert "The US Deputy" in built.overview.read_text(encoding="utf-8")


def test_a_rebuild_takes_the_quotes_its_database_process_made_ahead_while_they_are_unchanged(
        built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """The process beside the build fills them from the live release's database while the build checks the dataset;
    a rebuild that leaves them as they were goes on from there, one that changes a quote makes them itself. Nothing
    made ahead is left in build/ either way."""
    taken: list[tuple[str, ...]] = []
    real = database_module.DatabaseJob.result

    def result(job: database_module.DatabaseJob) -> database_job.DatabaseResult:
        outcome = real(job)
        taken.append(outcome.continued)
        return outcome

    monkeypatch.setattr(database_module.DatabaseJob, "result", result)
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")
    assert build_dataset(built).ok and taken == [("quotes",)]
    edit_record(built, SMITH, "text: у середу, 12 лютого,", "text: 12 лютого,")  # a quote, shorter
    assert build_dataset(built).ok and taken == [("quotes",), ()]
    assert [name for name in os.listdir(built.build) if name.startswith(".ahead-")] == []


def test_a_write_error_is_a_problem_and_changes_nothing(built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(path: Path, *_: Any) -> Path:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))

    monkeypatch.setattr(database_job, "SEPARATE_PROCESS", False)  # so that the patch below is in effect
    monkeypatch.setattr(database_work, "assemble", full_disk)
    before = snapshot(built)
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")
    result = build_dataset(built)
    [problem] = result.problems
    assert (problem.type, problem.line, problem.col) == ("build-failed", 0, 0)
    assert problem.file.startswith("build/.staging-") and problem.file.endswith("/belarus-releases.db")
    assert problem.message == ("the build failed here: No space left on device (ENOSPC); "
                               "nothing was published: build/current is as it was")
    assert snapshot(built) == before  # and the staging folder is gone


def test_an_sqlite_error_is_a_problem_and_changes_nothing(built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite reports a full disk as its own error, not as OSError: it must not reach the CLI as a traceback."""
    def full_disk(*_: Any) -> Path:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(database_job, "SEPARATE_PROCESS", False)
    monkeypatch.setattr(database_work, "assemble", full_disk)
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")  # a database to make (unchanged, it is linked)
    before = snapshot(built)
    result = CliRunner().invoke(cli, ["build", "--root", str(built.root)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.exception  # not a traceback
    [line] = [line for line in result.output.splitlines() if "[build-failed]" in line]
    assert re.fullmatch(r"build/\.staging-\w+/belarus-releases\.db:0:0: \[build-failed\] the build failed here: "
                        r"SQLite: database or disk is full; nothing was published: build/current is as it was", line), line
    assert snapshot(built) == before


def test_changed_record_changes_the_outputs(built: Layout) -> None:
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")
    before = published(built)
    assert build_dataset(built).ok
    after = published(built)
    assert after["events.csv"] != before["events.csv"]
    assert after["datapackage.json"] == before["datapackage.json"]  # descriptor does not depend on the data
    assert after["people.csv"] == before["people.csv"]


def test_cli_build_succeeds_with_a_summary(dataset: Layout) -> None:
    result = CliRunner().invoke(cli, ["build", "--root", str(dataset.root)])
    assert result.exit_code == 0, result.output
    rows = sum(len(json.loads(dataset.output(f"{table.name}.json").read_text(encoding="utf-8"))) for table in TABLES)
    release = os.readlink(dataset.current)
    assert result.output == f"Built {len(TABLES)} tables ({rows} rows) into build/{release}/; build/current points to it.\n"
    assert dataset.database.is_file()


def test_cli_build_prints_problems_and_exits_1(dataset: Layout) -> None:
    edit_record(dataset, SMITH, *BAD_QUOTE)
    result = CliRunner().invoke(cli, ["build", "--root", str(dataset.root)])
    assert result.exit_code == 1
    assert f"records/{SMITH}.yml:" in result.output and "[quote-not-found]" in result.output
    assert nothing_built(dataset)


def test_cli_build_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["build", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_the_real_dataset_builds(repo: Layout) -> None:
    """The real records build into a valid package."""
    result = build_dataset(repo)
    assert result.ok, [p.to_text() for p in result.problems]
    assert result.rows["events"] == len(list(repo.records.glob("*.yml")))


def test_a_bug_in_a_writer_is_one_located_problem_and_changes_nothing(built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    before = snapshot(built)

    def broken(*_: object, **__: object) -> None:
        raise KeyError("boom")

    monkeypatch.setattr(release_files, "write_datapackage", broken)
    result = CliRunner().invoke(cli, ["build", "--root", str(built.root)])
    assert result.exit_code == 1 and "Traceback" not in result.output and "boom" not in result.output
    assert result.output.startswith("build:0:0: [internal-error] the build failed while writing its outputs (KeyError); "
                                    "please report this; ")
    assert snapshot(built) == before
