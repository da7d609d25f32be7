"""Dataset assertions: a build never publishes a dataset that shrank by accident.

assertions.yml declares the fewest rows each table may have (dataset-too-small), and a build that would drop an
event build/current publishes is refused unless run with --allow-removals (events-removed)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from belarus_releases.check.dataset import load_assertions
from belarus_releases.check.yaml_reader import load_file
from belarus_releases.cli import cli
from belarus_releases.export import assertions
from belarus_releases.export.build import build_dataset
from belarus_releases.export.incremental import MANIFEST
from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES
from build_support import edit_record, nothing_built, published, snapshot, use_fixture_dataset

SMITH = "2025-02-12-smith-visits-minsk"
RENAMED = "2025-02-12-smith-in-minsk"
ADVICE = "restore the missing records, or lower this bound in a pull request that says why"


@pytest.fixture
def dataset(repo: Layout) -> Layout:
    return use_fixture_dataset(repo)


def test_an_emptied_records_folder_is_not_published(dataset: Layout) -> None:
    for path in dataset.records.glob("*.yml"):
        path.unlink()
    result = CliRunner().invoke(cli, ["build", "--root", str(dataset.root)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == ("assertions.yml:3:11: [dataset-too-small] the build would publish 0 rows in events, "
                        f"fewer than the 4 required here; {ADVICE}")
    assert {line.split(" rows in ")[1].split(",")[0] for line in lines[:-1]} == {
        "events", "event_types", "event_officials", "releases", "release_categories", "sanctions_changes",
        "event_links", "quotes"}
    assert nothing_built(dataset)


def test_one_table_below_its_bound_is_refused(dataset: Layout) -> None:
    text = dataset.assertions.read_text(encoding="utf-8")
    dataset.assertions.write_text(text.replace("  quotes: 13\n", "  quotes: 20\n"), encoding="utf-8")
    result = build_dataset(dataset)
    assert [p.to_text() for p in result.problems] == [
        "assertions.yml:17:11: [dataset-too-small] the build would publish 19 rows in quotes, "
        f"fewer than the 20 required here; {ADVICE}"]
    assert not dataset.build.exists()


def test_removing_a_published_event_needs_allow_removals(fixture_built: Layout) -> None:
    """Renaming a published record is removing its id: data users' links break, so it must be meant."""
    dataset = fixture_built
    before = snapshot(dataset)
    _rename_smith(dataset)
    refused = CliRunner().invoke(cli, ["build", "--root", str(dataset.root)])
    assert (refused.exit_code, refused.output.splitlines()[0]) == (1, (
        f"records/{SMITH}.yml:0:0: [events-removed] event {SMITH} is published (build/current/events.csv) but no record "
        "has this id any more; restore the record, or run `belarus-releases build --allow-removals` if removing it is intended"))
    assert len(refused.output.splitlines()) == 2  # that problem and the summary
    assert snapshot(dataset) == before
    allowed = CliRunner().invoke(cli, ["build", "--root", str(dataset.root), "--allow-removals"])
    assert allowed.exit_code == 0, allowed.output
    ids = [row["id"] for row in json.loads(published(dataset)["events.json"])]
    assert RENAMED in ids and SMITH not in ids


def test_a_rebuild_compares_with_the_records_the_live_manifest_lists(fixture_built: Layout,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """A build after a few changes takes the published events from the live release's manifest (whose files are
    checked against it meanwhile): its events.csv is read again only to confirm a removal the manifest shows."""
    real = assertions.published_event_ids
    read: list[Layout] = []

    def spy(layout: Layout) -> Any:
        read.append(layout)
        return real(layout)

    monkeypatch.setattr(assertions, "published_event_ids", spy)
    edit_record(fixture_built, SMITH, "title: US Deputy Assistant", "title: The US Deputy Assistant")
    assert build_dataset(fixture_built).ok and read == []
    _rename_smith(fixture_built)
    result = build_dataset(fixture_built)
    assert [(p.file, p.type) for p in result.problems] == [(f"records/{SMITH}.yml", "events-removed")] and read
    assert build_dataset(fixture_built, allow_removals=True).ok


def test_a_removal_the_manifest_shows_is_confirmed_in_the_published_events(fixture_built: Layout) -> None:
    """A manifest that lists an event its release does not publish (it checks the files, not this list) makes no
    events-removed problem: events.csv, read then, has the last word."""
    manifest_path = fixture_built.current.resolve() / MANIFEST
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["records"]["2025-01-01-never-published"] = "0" * 64
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")
    edit_record(fixture_built, SMITH, "title: US Deputy Assistant", "title: The US Deputy Assistant")
    result = build_dataset(fixture_built)
    assert result.ok, [p.to_text() for p in result.problems]


def _rename_smith(dataset: Layout) -> None:
    path = dataset.records / f"{SMITH}.yml"
    path.with_name(f"{RENAMED}.yml").write_text(path.read_text(encoding="utf-8").replace(f"id: {SMITH}\n", f"id: {RENAMED}\n"),
                                                encoding="utf-8")
    path.unlink()


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  quotes: 13\n", "  quotes: 13\n  quote: 1\n",
     "assertions.yml:18:3: [unknown-field] unknown field 'quote' in minimum_rows; did you mean 'quotes'?"),
    ("  quotes: 13\n", "", "assertions.yml:3:3: [missing-field] minimum_rows needs the field 'quotes'"),
    ("  quotes: 13\n", "  quotes: -1\n", "assertions.yml:17:11: [schema] minimum_rows.quotes:"),
    ("  quotes: 13\n", "  quotes: '13'\n", "assertions.yml:17:11: [schema] minimum_rows.quotes:"),
])
def test_assertions_are_validated_with_their_schema(dataset: Layout, old: str, new: str, expected: str) -> None:
    text = dataset.assertions.read_text(encoding="utf-8")
    assert old in text
    dataset.assertions.write_text(text.replace(old, new), encoding="utf-8")
    loaded, problems = load_assertions(dataset)
    assert loaded is None
    shown = [p.to_text() for p in problems]
    assert shown and shown[0].startswith(expected), shown


def test_missing_assertions_stop_the_build(dataset: Layout) -> None:
    dataset.assertions.unlink()
    result = build_dataset(dataset)
    assert [p.to_text() for p in result.problems] == [
        "assertions.yml:0:0: [missing-file] assertions.yml is missing; restore it from the main branch"]


def test_the_committed_assertions_bound_every_table_below_todays_count(real: Layout) -> None:
    """One bound per table in tables.py, each at most today's count (the real build passes in test_build.py)."""
    loaded, problems = load_assertions(real)
    assert loaded is not None, [p.to_text() for p in problems]
    assert list(loaded.data["minimum_rows"]) == [table.name for table in TABLES]
    schema = json.loads(real.schema("assertions").read_text(encoding="utf-8"))["properties"]["minimum_rows"]
    assert schema["required"] == list(schema["properties"]) == [table.name for table in TABLES]
    assert load_file(real.root, "assertions.yml").problems == ()
