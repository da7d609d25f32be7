"""build: check first, write nothing on any problem, publish everything at once, same records -> same bytes."""

from __future__ import annotations

import copy
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from belarus_releases.check.dataset import check_dataset
from belarus_releases.cli import cli
from belarus_releases.export import build as build_module
from belarus_releases.export.build import BuildResult, build_dataset
from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES
from build_support import dump, edit_record, snapshot, use_fixture_dataset

SMITH = "2025-02-12-smith-visits-minsk"
BAD_QUOTE = ("Смит увёз с собой трёх", "Смит увёз с собой пятерых")


@pytest.fixture
def dataset(repo: Layout) -> Layout:
    layout = use_fixture_dataset(repo)
    result = check_dataset(layout)
    assert result.ok, [p.to_text() for p in result.problems]
    return layout


@pytest.fixture
def built(dataset: Layout) -> Layout:
    result = build_dataset(dataset)
    assert result.ok, [p.to_text() for p in result.problems]
    return dataset


def expected_outputs(layout: Layout) -> set[Path]:
    files = {layout.build / f"{table.name}.{ext}" for table in TABLES for ext in ("csv", "json")}
    readme = {layout.readme} if layout.readme.is_file() else set()
    return files | readme | {layout.database, layout.datapackage}


def test_build_writes_every_output(dataset: Layout) -> None:
    result = build_dataset(dataset)
    assert result.ok, [p.to_text() for p in result.problems]
    assert set(result.outputs) == expected_outputs(dataset)
    assert result.outputs[-1] == dataset.datapackage  # published last
    assert all(path.is_file() for path in result.outputs)
    assert result.rows["events"] == len(list(dataset.records.glob("*.yml")))
    assert [p.name for p in dataset.build.iterdir() if p.name.startswith(".")] == []  # no staging folder left


def test_the_build_never_changes_what_the_check_returned(dataset: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    # Each stage returns new results: a cache of checked files (and any later reader) relies on it.
    checked: list[tuple[Any, Any]] = []

    def check_and_keep(layout: Layout) -> Any:
        result = check_dataset(layout)
        checked.append((result, copy.deepcopy(result)))
        return result

    monkeypatch.setattr(build_module, "check_dataset", check_and_keep)
    assert build_dataset(dataset).ok
    (result, before), = checked
    assert result == before
    assert [loaded.data for loaded in result.records] == [loaded.data for loaded in before.records]


def test_built_package_validates_with_frictionless(built: Layout) -> None:
    from frictionless import Package

    report = Package(str(built.datapackage)).validate()
    assert report.valid, report.flatten(["rowNumber", "fieldNumber", "type", "message"])
    assert len(report.tasks) == len(TABLES)


def test_built_datapackage_equals_the_committed_one(built: Layout, real: Layout) -> None:
    assert built.datapackage.read_bytes() == real.datapackage.read_bytes()


def test_built_database_passes_foreign_key_check(built: Layout) -> None:
    import sqlite3

    connection = sqlite3.connect(built.database)
    try:
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        assert connection.execute("select count(*) from events").fetchone()[0] == 5
    finally:
        connection.close()


def test_two_builds_give_identical_bytes_and_dump(built: Layout) -> None:
    first, first_dump = snapshot(built), dump(built.database)
    result = build_dataset(built)
    assert result.ok
    second = snapshot(built)
    assert set(first) == set(second)
    for name in first:
        if not name.endswith(".db"):
            assert first[name] == second[name], name
    assert dump(built.database) == first_dump


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
    assert result.outputs == []
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
    real_flatten = build_module.flatten

    def broken(result: Any) -> Any:
        tables = real_flatten(result)
        tables["quotes"][0]["source_file"] = "nowhere.txt"
        return tables

    monkeypatch.setattr(build_module, "flatten", broken)
    before = snapshot(built)
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")  # so that a publish would show
    result = build_dataset(built)
    assert not result.ok
    assert {p.type for p in result.problems} == {"package-invalid"}
    assert any(p.file == "build/quotes.csv" and "foreign-key" in p.message for p in result.problems)
    assert any(p.file == "build/belarus-releases.db" for p in result.problems)
    assert snapshot(built) == before


def test_a_write_error_is_a_problem_and_changes_nothing(built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: Any) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(build_module, "write_sqlite", full_disk)
    before = snapshot(built)
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")
    result = build_dataset(built)
    assert [p.type for p in result.problems] == ["build-failed"]
    assert "No space left on device" in result.problems[0].message
    assert snapshot(built) == before


def test_changed_record_changes_the_outputs(built: Layout) -> None:
    before = snapshot(built)
    edit_record(built, SMITH, "title: US Deputy", "title: The US Deputy")
    assert build_dataset(built).ok
    after = snapshot(built)
    assert after["build/events.csv"] != before["build/events.csv"]
    assert after["datapackage.json"] == before["datapackage.json"]  # descriptor does not depend on the data
    assert after["build/people.csv"] == before["build/people.csv"]


def test_cli_build_succeeds_with_a_summary(dataset: Layout) -> None:
    result = CliRunner().invoke(cli, ["build", "--root", str(dataset.root)])
    assert result.exit_code == 0, result.output
    rows = sum(len(json.loads((dataset.build / f"{table.name}.json").read_text(encoding="utf-8"))) for table in TABLES)
    assert result.output == f"Built {len(TABLES)} tables ({rows} rows) into build/ and datapackage.json.\n"
    assert dataset.database.is_file()


def test_cli_build_prints_problems_and_exits_1(dataset: Layout) -> None:
    edit_record(dataset, SMITH, *BAD_QUOTE)
    result = CliRunner().invoke(cli, ["build", "--root", str(dataset.root)])
    assert result.exit_code == 1
    assert f"records/{SMITH}.yml:" in result.output and "[quote-not-found]" in result.output
    assert not dataset.build.exists()


def test_cli_build_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["build", "--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_the_real_dataset_builds(repo: Layout) -> None:
    """The real records build into a valid package."""
    result = build_dataset(repo)
    assert result.ok, [p.to_text() for p in result.problems]
    assert result.rows["events"] == len(list(repo.records.glob("*.yml")))
