"""The incremental build: a release made from the live one when few records changed has the bytes of a full build.

One full build of the fixture, then a record edited (with a note that CSV must quote across lines), one added (whose
link puts rows among another record's), one removed (the one with a former id, renamed: the registries' entries
stay cited); the incremental build of that is compared, file by file, with a full build from scratch of the same
inputs in another folder."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import threading
import weakref
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from belarus_releases.check.dataset import check_dataset
from belarus_releases.export import build as build_module
from belarus_releases.export import database_job, database_work, datapackage, package_recheck, package_zip, splice
from belarus_releases.export import publish as publish_module
from belarus_releases.export.build import build_dataset
from belarus_releases.export.downloads import CHART
from belarus_releases.export.incremental import (
    MANIFEST,
    Doubt,
    Plan,
    file_entry,
    input_digests,
    plan,
    read_manifest,
    record_digests,
    verify,
    write_manifest,
)
from belarus_releases.export.sqlite import ScratchRows, assemble, write_sqlite
from belarus_releases.layout import Layout
from belarus_releases.tables import BY_NAME, TABLES
from build_support import at_once, edit_record, published, record_path, use_fixture_dataset
from conftest import copy_dataset

SMITH = "2025-02-12-smith-visits-minsk"
COALE = "2025-09-11-coale-visits-minsk"
ADDED = "2025-09-11-coale-visits-minsk-again"  # links to Kellogg's visit, as Coale's record does
REMOVED, RENAMED = "2025-11-01-talks-on-large-release", "2025-11-01-talks-on-a-large-release"
NOTE = 'notes: |-\n  A note, with a comma and "quotes",\n  on two lines.\n'


def _change(layout: Layout) -> None:
    edit_record(layout, SMITH, "title: US Deputy", "title: The US Deputy")
    with record_path(layout, SMITH).open("a", encoding="utf-8") as handle:
        handle.write(NOTE)
    text = record_path(layout, COALE).read_text(encoding="utf-8").replace(f"id: {COALE}\n", f"id: {ADDED}\n")
    record_path(layout, ADDED).write_text(text, encoding="utf-8")
    text = record_path(layout, REMOVED).read_text(encoding="utf-8").replace(f"id: {REMOVED}\n", f"id: {RENAMED}\n")
    record_path(layout, RENAMED).write_text(text, encoding="utf-8")
    record_path(layout, REMOVED).unlink()


def test_an_incremental_build_gives_the_bytes_of_a_full_build(repo: Layout, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    layout = use_fixture_dataset(repo)
    first = build_dataset(layout)
    assert first.ok, [p.to_text() for p in first.problems]
    _change(layout)
    spliced: list[str] = []
    real_splice = build_module.splice_table

    def spy(table: Any, *args: Any) -> Any:
        spliced.append(table.name)
        return real_splice(table, *args)

    monkeypatch.setattr(build_module, "splice_table", spy)
    monkeypatch.setattr(splice, "BLOCK", 100)  # the previous files read in blocks that end inside rows and quotes
    reused: list[str] = []
    real_copy = package_zip._copied

    def copy_spy(old: Path, entry: Any) -> Any:
        reused.append(entry.filename)
        return real_copy(old, entry)

    monkeypatch.setattr(package_zip, "_copied", copy_spy)
    incremental = build_dataset(layout, allow_removals=True)
    assert incremental.ok, [p.to_text() for p in incremental.problems]
    record_tables = {table.name for table in TABLES if table.contributor}
    assert {"events", "event_links", "quotes"} <= set(spliced) < record_tables  # the rest was linked
    assert first.release and incremental.release
    assert "datapackage.json" in reused and "people.csv" in reused and "events.csv" not in reused  # zipped once
    texts = [name for name in os.listdir(incremental.release) if name.endswith(".txt")]  # sources/ did not change
    assert texts and all(os.path.samefile(first.release / name, incremental.release / name) for name in texts)
    other = copy_dataset(tmp_path / "other")
    for part in ("records", "registry", "assertions.yml"):
        source, target = layout.root / part, other.root / part
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        shutil.copytree(source, target) if source.is_dir() else shutil.copy(source, target)
    full = build_dataset(other)
    assert full.ok, [p.to_text() for p in full.problems]
    assert incremental.rows == full.rows
    ours, theirs = published(layout), published(other)
    assert sorted(ours) == sorted(theirs) and MANIFEST in ours
    assert [name for name in ours if ours[name] != theirs[name]] == []
    assert b'"A note, with a comma and ""quotes"",\non two lines."' in ours["events.csv"]
    manifest = read_manifest(incremental.release)
    assert manifest is not None and sorted(manifest["dialects"]) == sorted(table.name for table in TABLES)


def test_a_rebuild_with_nothing_changed_is_shown_valid_without_frictionless(fixture_built: Layout,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """Every table linked from the previous release, shown valid by it: export/package_recheck.py says so."""
    def no_full_check(*args: Any) -> None:
        raise AssertionError("the package was checked in full")

    monkeypatch.setattr(datapackage, "fast_verdict", no_full_check)
    again = build_dataset(fixture_built)
    assert again.ok, [p.to_text() for p in again.problems]


def _release(folder: Path, files: dict[str, bytes], records: dict[str, str]) -> Plan:
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    write_manifest(folder, "key", records, {})
    manifest = read_manifest(folder)
    assert manifest is not None
    return Plan(folder, manifest, frozenset(), frozenset())


def test_a_previous_release_that_is_not_what_its_manifest_says_is_not_used(tmp_path: Path) -> None:
    previous = _release(tmp_path / "release", {"events.csv": b"id\nx\n", "events.json": b"[\n]\n"}, {})
    verify(previous)
    (previous.previous / "events.csv").write_bytes(b"id\ny\n")  # same size, other bytes
    with pytest.raises(Doubt):
        verify(previous)
    os.unlink(previous.previous / "events.csv")
    with pytest.raises(Doubt):
        verify(previous)


def test_a_full_build_when_the_key_differs_or_most_records_changed(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    digests = {f"2025-01-01-event-{number}": f"digest {number}" for number in range(300)}
    _release(layout.releases / "000001-20250101T000000Z", {}, digests)
    layout.current.symlink_to("releases/000001-20250101T000000Z")
    assert plan(layout, "another key", digests) is None
    one_changed = {**digests, "2025-01-01-event-7": "edited"}
    found = plan(layout, "key", one_changed)
    assert found is not None and (found.changed, found.dropped) == ({"2025-01-01-event-7"}, {"2025-01-01-event-7"})
    assert plan(layout, "key", {name: "edited" for name in digests}) is None


@pytest.mark.parametrize("kernel", [True, False])
def test_spliced_bytes_are_copied_by_the_kernel_or_through_a_buffer(kernel: bool, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any) -> int:
        raise OSError(18, "Invalid cross-device link")

    if not kernel:
        monkeypatch.setattr(os, "copy_file_range", refused)
    monkeypatch.setattr(splice, "BLOCK", 3)
    data = bytes(range(256)) * 4
    (tmp_path / "old").write_bytes(data)
    with (tmp_path / "old").open("rb") as source, (tmp_path / "new").open("wb") as target:
        target.write(b"new")
        splice._copy(source, target, 10, 700)
        target.write(b"|")
        splice._copy(source, target, 0, 1)
    assert (tmp_path / "new").read_bytes() == b"new" + data[10:700] + b"|" + data[:1]


def test_a_previous_release_changed_after_it_was_published_gives_a_full_build(fixture_built: Layout,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Its files are checked against its manifest while the new one is made: a mismatch found then still makes
    the build start again in full, and publish the full build's bytes."""
    layout = fixture_built
    previous = layout.current.resolve()
    expected = (previous / "people.csv").read_bytes()
    with (previous / "people.csv").open("ab") as handle:  # nothing changed since: every file would be linked
        handle.write(b"tampered,\n")
    restarts: list[str] = []
    real_restart = build_module.DatabaseJob.restart

    def restart(job: Any) -> None:
        restarts.append("restart")
        real_restart(job)

    monkeypatch.setattr(build_module.DatabaseJob, "restart", restart)
    result = build_dataset(layout)
    assert result.ok, [p.to_text() for p in result.problems]
    assert result.release and (result.release / "people.csv").read_bytes() == expected
    assert len(restarts) == 2  # the process's start, and its start again for the full build


def test_a_doubt_found_once_the_records_are_let_go_starts_the_build_again_in_full(fixture_built: Layout,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The records are let go as soon as the changed rows are made, before the live release is known sound: a doubt
    found after that starts the build again (the check too) as a full one, which publishes; the first attempt's
    problem is never reported."""
    layout = fixture_built
    edit_record(layout, COALE, "title: John Coale meets", "title: John Coale met")
    steps: list[str] = []
    let_go = threading.Event()
    real_check, real_let_go = build_module.check_dataset, build_module._let_go_of_records

    def check(*args: Any, **kwargs: Any) -> Any:
        steps.append("check")
        return real_check(*args, **kwargs)

    def letting_go(build: Any) -> None:
        steps.append("let go")
        real_let_go(build)
        let_go.set()

    def doubting(plan: Plan) -> None:
        assert let_go.wait(10), "the records were not let go while the live release was checked"
        steps.append("doubt")
        raise Doubt("a file of the previous release is not what its manifest says")

    real_close, real_remove = build_module.DatabaseJob.close, publish_module._remove

    def closing(job: Any) -> None:
        if job.process is not None:
            steps.append("process stopped")
        real_close(job)

    def removing(path: Path) -> None:
        if path.name.startswith(publish_module.STAGING_PREFIX) and path.exists():
            steps.append("staging removed")
        real_remove(path)

    monkeypatch.setattr(build_module, "check_dataset", check)
    monkeypatch.setattr(build_module, "_let_go_of_records", letting_go)
    monkeypatch.setattr(build_module, "verify", doubting)
    monkeypatch.setattr(build_module.DatabaseJob, "close", closing)
    monkeypatch.setattr(publish_module, "_remove", removing)
    result = build_dataset(layout)
    assert result.ok, [p.to_text() for p in result.problems]
    # the database process is stopped before the folder it writes in is removed; the second build is a full one,
    # whose records are let go once flattened
    assert steps == ["check", "let go", "doubt", "process stopped", "staging removed", "check", "let go",
                     "process stopped"]
    assert result.release is not None and "John Coale met" in (result.release / "events.csv").read_text(encoding="utf-8")
    assert read_manifest(result.release) is not None


def test_an_incremental_build_writes_the_parquet_files_while_the_database_is_made(fixture_built: Layout,
                                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Arrow and SQLite both let go of the GIL: the database process makes the two at once, on two cores."""
    monkeypatch.setattr(database_job, "SEPARATE_PROCESS", False)  # so that the patches below are in effect
    begun = at_once(monkeypatch, database_work, "assemble", "write_parquet_files")
    edit_record(fixture_built, COALE, "title: John Coale meets", "title: John Coale met")
    result = build_dataset(fixture_built)
    assert result.ok, [p.to_text() for p in result.problems]
    assert begun.is_set()


def _people(*rows: tuple[str, str]) -> list[tuple[Any, ...]]:
    return list(rows)


def _links(stated_in: str, *pairs: tuple[str, str]) -> list[tuple[Any, ...]]:
    return [(event, "after", other, stated_in, 0) for event, other in pairs]


def _categories(event: str, *positions: int) -> list[tuple[Any, ...]]:
    return [(event, position, f"category {position}", position, 0, None) for position in positions]


MANY = {f"e{number:03}": _people((f"e{number:03}", "p1"), (f"e{number:03}", "p2")) for number in range(0, 200, 3)}
MERGES = {  # table: previous rows by record, then cases of (changed records' new rows, records removed)
    "released_people": ({"b": _people(("b", "p1"), ("b", "p2")), "d": _people(("d", "p1")), "f": _people(("f", "p3"))}, [
        ({"a": _people(("a", "p1")), "c": _people(("c", "p2"), ("c", "p3")), "d": _people(("d", "p9")),
          "g": _people(("g", "p1"))}, set()),  # first, between, in place of one, last
        ({"d": _people(("d", "p0"), ("d", "p1"), ("d", "p2"))}, {"f"}),  # in place of one, more rows; one gone
        ({"b": []}, set()),  # only rows gone
        ({}, set()),
    ]),
    # a record's links sit among other records' (their key starts with the linked event, not the record)
    "event_links": ({"w": _links("w", ("b", "w"), ("f", "w")), "x": _links("x", ("a", "x"), ("c", "x")),
                     "y": _links("y", ("b", "y"), ("d", "y"))}, [
        ({"x": _links("x", ("a", "x"), ("e", "x")), "z": _links("z", ("b", "z"), ("c", "z"))}, {"y"}),
    ]),
    # an integer in the key: 2 before 10
    "release_categories": ({"a": _categories("a", 1, 2, 10), "b": _categories("b", 1)}, [
        ({"a": _categories("a", 2, 3, 10, 11)}, set()),
        ({"c": _categories("c", 9, 10)}, {"a", "b"}),
    ]),
    # nothing before; a key that is not the record's id
    "event_former_ids": ({}, [({"b": [("old-b", "b"), ("z-old", "b")], "a": [("old-a", "a")]}, set())]),
}
MERGE_CASES = [(table, previous, changed, removed) for table, (previous, cases) in MERGES.items()
               for changed, removed in cases]
MERGE_CASES.append(("released_people", {f"e{number:03}": _people((f"e{number:03}", "p1")) for number in range(200)},
                    MANY, {f"e{number:03}" for number in range(1, 200, 7) if number % 3}))  # many records changed and gone


@pytest.mark.parametrize(("name", "previous_rows", "changed", "removed"), MERGE_CASES)
def test_a_database_made_from_the_previous_one_has_the_bytes_of_one_made_from_scratch(
        name: str, previous_rows: dict[str, list[tuple[Any, ...]]], changed: dict[str, list[tuple[Any, ...]]],
        removed: set[str], tmp_path: Path) -> None:
    """The previous rows are read in rowid ranges, each changed record's rows put between them where their keys
    fall: the rows and their order are those of a database made of the final rows from the start, to the byte."""
    table = BY_NAME[name]
    kept = [row for record, rows in previous_rows.items() if record not in changed and record not in removed
            for row in rows]
    final = sorted(kept + [row for rows in changed.values() for row in rows], key=table.values_key)

    def dicts(rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [dict(zip(table.column_names, row, strict=True)) for row in rows]

    previous = write_sqlite({name: dicts([row for rows in previous_rows.values() for row in rows])}, tmp_path / "old.db")
    with ScratchRows(tmp_path / "scratch.db") as store:
        for other in TABLES:
            if other.contributor:
                store.add(other, [row for rows in changed.values() for row in rows] if other is table else [])
        store.add_ids("dropped", set(changed) | removed)
    made = assemble(tmp_path / "made.db", tmp_path / "scratch.db", database_work.kept_and_changed,
                    {database_work.PREVIOUS: previous})
    expected = write_sqlite({name: dicts(final)}, tmp_path / "expected.db")
    assert made.read_bytes() == expected.read_bytes()


def test_a_database_continued_from_the_tables_made_ahead_has_the_bytes_of_one_made_at_once(
        fixture_built: Layout, tmp_path: Path) -> None:
    """The database process makes the quotes of a rebuild from the live release's database while the build checks
    the dataset; a rebuild that leaves them as they were moves that file into its release and goes on from there."""
    previous = fixture_built.current.resolve() / fixture_built.database.name
    with closing(sqlite3.connect(previous)) as db:
        record = db.execute("SELECT id FROM events ORDER BY id LIMIT 1").fetchone()[0]
        rows = {table.name: db.execute(f'SELECT * FROM "{table.name}" WHERE "{table.contributor}" = ?', (record,))
                .fetchall() for table in TABLES if table.contributor}
    scratch = tmp_path / "scratch.db"
    with ScratchRows(scratch) as store:  # the record made again with the same rows, the events' only "changed"
        for name, values in rows.items():
            arrays = [index for index, column in enumerate(BY_NAME[name].columns) if column.type == "array"]
            store.add(BY_NAME[name], [tuple(json.loads(value) if index in arrays and value is not None else value
                                            for index, value in enumerate(row)) for row in values])
        store.add_ids("dropped", {record})
    copied = {table.name: database_work.PREVIOUS for table in TABLES if table.name != "events"}
    made = tmp_path / "at once.db"
    assemble(made, scratch, database_work.kept_and_changed, {database_work.PREVIOUS: previous}, copied)
    ahead = database_work.made_ahead(database_job.Ahead(previous, tmp_path / ".ahead-1-0a1b2c3d.db"))
    assert ahead is not None
    continued = tmp_path / "continued.db"
    os.rename(ahead.path, continued)
    assemble(continued, scratch, database_work.kept_and_changed, {database_work.PREVIOUS: previous}, copied, ("quotes",))
    assert continued.read_bytes() == made.read_bytes()


def test_a_source_document_gone_from_the_previous_release_gives_a_full_build(fixture_built: Layout) -> None:
    """The sources are linked from the previous release only once it is known sound: a copy gone from it is a
    doubt about that release (a full build), not a failed link."""
    layout = fixture_built
    previous = layout.current.resolve()
    gone = sorted(previous.glob("*.txt"))[0]
    expected = gone.read_bytes()
    gone.unlink()
    result = build_dataset(layout)
    assert result.ok, [p.to_text() for p in result.problems]
    assert result.release and (result.release / gone.name).read_bytes() == expected


@pytest.mark.parametrize("cache", [False, True])
def test_the_manifest_digests_are_those_of_the_files_checked(repo: Layout, cache: bool) -> None:
    """The check says which bytes it read, of each record and listed source; the manifest and the build key record
    their SHA-256, as reading the files again would."""
    check_dataset(repo, cache=cache)  # with the cache: the second check has every record from it
    check = check_dataset(repo, cache=cache)
    assert check.ok and check.sources is not None
    assert set(check.digests) == ({loaded.file for loaded in check.records}  # and the sources they cite
                                  | {f"sources/{entry['file']}" for entry in check.sources.data["sources"]})
    assert check.digests == {name: hashlib.sha256((repo.root / name).read_bytes()).digest() for name in check.digests}
    assert input_digests(repo, check.digests) == input_digests(repo, {})
    source = next(name for name in check.digests if name.startswith("sources/"))  # the check's, not read again
    assert input_digests(repo, {source: bytes(32)})[source] == "00" * 32
    expected = {loaded.data["id"]: hashlib.sha256((repo.root / loaded.file).read_bytes()).hexdigest()
                for loaded in check.records}
    ids = [loaded.data["id"] for loaded in check.records]
    assert record_digests(repo, check, ids) == expected
    assert record_digests(repo, replace(check, digests={}), ids) == expected


@pytest.mark.parametrize("block", [1, 2, 5, 64, 1 << 22])
def test_row_offsets_are_found_whatever_the_blocks(block: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Rows are found by their line breaks (a CSV row's end is outside quotes), whichever block a line ends in."""
    monkeypatch.setattr(splice, "BLOCK", block)
    rows = [b'id,text\n', b'1,plain\n', b'2,"two\nlines, ""quoted"""\n', b'3,"a\n\n"\n', b'4,\n']
    (tmp_path / "t.csv").write_bytes(b"".join(rows))
    assert splice.csv_row_ends(tmp_path / "t.csv") == [sum(map(len, rows[:n])) for n in range(1, len(rows) + 1)]
    for unfinished in (b"".join(rows) + b'5,"open\n', b"".join(rows) + b"5,no line feed"):
        (tmp_path / "t.csv").write_bytes(unfinished)
        with pytest.raises(Doubt):
            splice.csv_row_ends(tmp_path / "t.csv")
    lines = [b'{"id": 1},', b'{"id": "\\u00e9,"},', b'{"id": 3}']
    (tmp_path / "t.json").write_bytes(b"[\n" + b"\n".join(lines) + b"\n]\n")
    starts = [2 + sum(len(line) + 1 for line in lines[:n]) for n in range(len(lines))]
    assert splice.json_row_spans(tmp_path / "t.json") == [
        (start, start + len(line) - line.endswith(b",")) for start, line in zip(starts, lines, strict=True)]
    (tmp_path / "t.json").write_bytes(b"[\n]\n")
    assert splice.json_row_spans(tmp_path / "t.json") == []
    for broken in (b"", b"[\n", b"[\n{}\n", b"[{}]\n", b"[\n{}\n]"):
        (tmp_path / "t.json").write_bytes(broken)
        with pytest.raises(Doubt):
            splice.json_row_spans(tmp_path / "t.json")


def test_a_table_spliced_back_to_the_same_bytes_is_linked(fixture_built: Layout) -> None:
    """A changed title touches only events' rows: the record's other tables are links to the previous release's
    files (so the package recheck, the zip and the manifest see them unchanged)."""
    layout = fixture_built
    previous = layout.current.resolve()
    edit_record(layout, COALE, "title: John Coale meets", "title: John Coale met")
    result = build_dataset(layout)
    assert result.ok, [p.to_text() for p in result.problems]
    current = layout.current.resolve()
    same = {name for name in os.listdir(current) if name.endswith((".csv", ".json")) and name != "datapackage.json"
            and os.path.samefile(current / name, previous / name)}
    assert {"events.csv", "events.json"}.isdisjoint(same)
    assert {f"{name}.{extension}" for name in ("event_types", "quotes", "releases") for extension in ("csv", "json")} <= same


def test_rows_differ_compares_a_records_rows_in_any_order_with_their_types(fixture_built: Layout) -> None:
    import sqlite3

    table = next(table for table in TABLES if table.name == "release_categories")
    previous = sqlite3.connect(fixture_built.database)
    try:
        record, = previous.execute("SELECT event_id FROM release_categories GROUP BY event_id HAVING count(*) > 1 "
                                   "ORDER BY event_id LIMIT 1").fetchone()
        rows = previous.execute("SELECT * FROM release_categories WHERE event_id = ?", (record,)).fetchall()
        assert not splice.rows_differ(table, previous, list(reversed(rows)), frozenset({record}))
        assert splice.rows_differ(table, previous, rows[1:], frozenset({record}))
        position = table.column_names.index("position")
        for other in (rows[0][position] + 100, True if rows[0][position] == 1 else float(rows[0][position])):
            changed = [(*rows[0][:position], other, *rows[0][position + 1:]), *rows[1:]]
            assert splice.rows_differ(table, previous, changed, frozenset({record})), other
        assert splice.rows_differ(table, previous, rows, frozenset())
        assert not splice.rows_differ(table, previous, [], frozenset({"no-such-record"}))
    finally:
        previous.close()


def test_a_rebuild_with_nothing_changed_links_the_database_and_what_is_read_from_it(fixture_built: Layout) -> None:
    """Same key, same rows: the live release's database, overview and chart are the new release's, byte for byte;
    after an edit they are made again."""
    names = (fixture_built.database.name, fixture_built.overview.name, CHART)
    before = fixture_built.current.resolve()
    again = build_dataset(fixture_built)
    assert again.ok and again.release is not None and again.release.resolve() != before
    assert all(os.path.samefile(before / name, again.release / name) for name in names)
    edit_record(fixture_built, COALE, "title: John Coale meets", "title: John Coale met")
    edited = build_dataset(fixture_built)
    assert edited.ok and edited.release is not None
    assert not os.path.samefile(again.release / fixture_built.database.name, edited.release / fixture_built.database.name)


def test_a_rebuild_after_one_change_decodes_that_records_data_alone(fixture_built: Layout,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The build reads each record's id from its references, as the rules across records do: the records from the
    check's cache keep their data undecoded, but the changed one's."""
    checked: list[list[Any]] = []
    real = build_module.check_dataset

    def spy(*args: Any, **options: Any) -> Any:
        result = real(*args, **options)
        checked.append(result.records)
        return result

    monkeypatch.setattr(build_module, "check_dataset", spy)
    assert build_dataset(fixture_built, cache=True).ok  # the cache written
    edit_record(fixture_built, COALE, "title: John Coale meets", "title: John Coale met")
    assert build_dataset(fixture_built, cache=True).ok
    records = checked[-1]
    assert [loaded.file for loaded in records if "data" in vars(loaded)] == [f"records/{COALE}.yml"]


def test_a_rebuild_after_an_edit_reads_no_table_of_the_previous_release(fixture_built: Layout,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """An event edited: the package is shown valid again by reading the new events.csv alone; the tables that refer
    to the events are linked, and their references checked against the previous release's event ids, which its
    manifest lists."""
    previous = fixture_built.current.resolve()
    read: list[Path] = []
    real = package_recheck.check_rows

    def spy(columns: Any, path: str, *rest: Any, **options: Any) -> Any:
        read.append(Path(path))
        return real(columns, path, *rest, **options)

    monkeypatch.setattr(package_recheck, "check_rows", spy)
    edit_record(fixture_built, COALE, "title: John Coale meets", "title: John Coale met")
    again = build_dataset(fixture_built)
    assert again.ok and again.release is not None
    assert [(path.parent == previous, path.name) for path in read] == [(False, "events.csv")]


def test_each_manifest_entry_is_its_files_size_and_digest(fixture_built: Layout) -> None:
    """Whoever took it (the database process, for the database; the previous manifest, for a linked file), each
    entry is the file's, after a full build, a rebuild with nothing changed and one after an edit."""
    def entries_are_the_files(release: Path | None) -> bool:
        manifest = read_manifest(release) if release else None
        assert release is not None and manifest is not None
        names = sorted(name for name in os.listdir(release) if name != MANIFEST)
        return manifest["files"] == {name: file_entry(release / name) for name in names}

    assert entries_are_the_files(fixture_built.current.resolve())
    assert entries_are_the_files(build_dataset(fixture_built).release)
    edit_record(fixture_built, COALE, "title: John Coale meets", "title: John Coale met")
    assert entries_are_the_files(build_dataset(fixture_built).release)


def test_the_overview_and_chart_are_linked_while_the_releases_query_gives_the_same_rows(fixture_built: Layout) -> None:
    """A change the releases query does not read (a note) leaves overview.md and the chart as they were, linked from
    the live release; a change it reads (a release's title) makes both again."""
    names = (fixture_built.overview.name, CHART)
    before = fixture_built.current.resolve()
    digest = read_manifest(before)["releases"]  # type: ignore[index]
    with record_path(fixture_built, SMITH).open("a", encoding="utf-8") as handle:
        handle.write(NOTE)
    noted = build_dataset(fixture_built)
    assert noted.ok and noted.release is not None
    assert not os.path.samefile(before / fixture_built.database.name, noted.release / fixture_built.database.name)
    assert all(os.path.samefile(before / name, noted.release / name) for name in names)
    assert read_manifest(noted.release)["releases"] == digest  # type: ignore[index]
    edit_record(fixture_built, COALE, "title: John Coale meets", "title: John Coale met")
    retitled = build_dataset(fixture_built)
    assert retitled.ok and retitled.release is not None
    assert not any(os.path.samefile(noted.release / name, retitled.release / name) for name in names)
    assert "John Coale met" in (retitled.release / fixture_built.overview.name).read_text(encoding="utf-8")
    assert read_manifest(retitled.release)["releases"] != digest  # type: ignore[index]


def test_an_incremental_build_lets_the_checked_records_go_before_it_waits_for_the_database(
        fixture_built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    # once no doubt about the previous release is left, nothing needs them (a full build would)
    checked: list[weakref.ref[Any]] = []
    gone_while_waiting: list[bool] = []
    real_check, real_result = build_module.check_dataset, build_module.DatabaseJob.result

    def check_and_watch(layout: Layout, **options: Any) -> Any:
        result = real_check(layout, **options)
        checked.append(weakref.ref(result))
        return result

    def result_and_look(job: Any) -> Any:
        gone_while_waiting.append(checked[0]() is None)
        return real_result(job)

    monkeypatch.setattr(build_module, "check_dataset", check_and_watch)
    monkeypatch.setattr(build_module.DatabaseJob, "result", result_and_look)
    previous = fixture_built.current.resolve()
    edit_record(fixture_built, COALE, "title: John Coale meets", "title: John Coale met")
    result = build_dataset(fixture_built)
    assert result.ok, [p.to_text() for p in result.problems]
    assert result.release and os.path.samefile(result.release / "quotes.csv", previous / "quotes.csv")  # incremental
    assert gone_while_waiting == [True] and result.check.records == [] and result.check.files_checked > 0
