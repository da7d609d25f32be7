"""write_sqlite: explicit types, primary and foreign keys, indexes, full-text search, determinism."""

from __future__ import annotations

import copy
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from belarus_releases.export.database_job import ORDER
from belarus_releases.export.flatten import flatten_data
from belarus_releases.export.sqlite import (
    SQLITE_TYPES,
    NewDatabase,
    foreign_key_problems,
    statement_problems,
    write_sqlite,
)
from belarus_releases.tables import BY_NAME, TABLES
from build_support import dump, fixture_data

ROOT = Path(__file__).resolve().parent.parent
DECLARED = {str: "TEXT", int: "INTEGER"}


@pytest.fixture(scope="module")
def tables() -> dict[str, list[dict[str, Any]]]:
    records, people, sources = fixture_data()
    records = copy.deepcopy(records)
    records[0]["notes"] = "007"
    return flatten_data(records, people, sources)


@pytest.fixture(scope="module")
def database(tables: dict[str, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sqlite(tables, tmp_path_factory.mktemp("db") / "belarus-releases.db")


@pytest.fixture
def db(database: Path) -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    yield connection
    connection.close()


def test_every_table_is_strict_with_declared_column_types(db: sqlite3.Connection) -> None:
    for table in TABLES:
        sql = db.execute("select sql from sqlite_master where type = 'table' and name = ?", (table.name,)).fetchone()[0]
        assert sql.rstrip().endswith("STRICT"), table.name
        info = db.execute(f'PRAGMA table_info("{table.name}")').fetchall()
        assert [(row[1], row[2]) for row in info] == [(c.name, DECLARED[SQLITE_TYPES[c.type]]) for c in table.columns]
        assert {row[1] for row in info if row[3]} == {c.name for c in table.columns if c.required} | set(table.primary_key)


def test_primary_keys(db: sqlite3.Connection) -> None:
    for table in TABLES:
        info = db.execute(f'PRAGMA table_info("{table.name}")').fetchall()
        pk = [name for _, name, *_rest, position in sorted(info, key=lambda row: row[5]) if position]
        assert tuple(pk) == table.primary_key, table.name


def test_foreign_keys_are_declared_and_hold(db: sqlite3.Connection, database: Path) -> None:
    for table in TABLES:
        declared = {(row[3], row[2], row[4]) for row in db.execute(f'PRAGMA foreign_key_list("{table.name}")')}
        assert declared == {(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys}, table.name
    assert db.execute("PRAGMA foreign_key_check").fetchall() == []
    assert foreign_key_problems(database) == []


def test_a_dangling_reference_is_found(tables: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    broken = {name: list(rows) for name, rows in tables.items()}
    dangling = {"event_id": "2025-06-21-kellogg-visits-minsk", "person_id": "nobody"}
    broken["released_people"] = [*broken["released_people"], dangling]
    problems = foreign_key_problems(write_sqlite(broken, tmp_path / "x.db"))
    assert problems == ["released_people row 1: no people for its foreign key #0"]  # rows go in in primary-key order


def test_rows_and_values_are_stored_as_given(db: sqlite3.Connection, tables: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        assert db.execute(f'select count(*) from "{table.name}"').fetchone()[0] == len(tables[table.name])
    notes, notes_type, count, count_type, types = db.execute(
        "select notes, typeof(notes), release_count, typeof(release_count), types from events where id = ?",
        ("2025-02-12-smith-visits-minsk",)).fetchone()
    assert (notes, notes_type) == ("007", "text")
    assert (count, count_type) == (3, "integer")
    assert types == '["visit","meeting","release"]'
    facet = db.execute("select value, count(*) from events, json_each(events.types) group by value order by value").fetchall()
    assert ("release", 3) in facet


def test_strict_tables_refuse_wrong_types(database: Path, tmp_path: Path) -> None:
    copy_path = tmp_path / "copy.db"
    copy_path.write_bytes(database.read_bytes())
    connection = sqlite3.connect(copy_path)
    with pytest.raises(sqlite3.IntegrityError):
        connection.execute("update events set year = 'soon'")
    connection.close()


def test_indexes_on_facet_and_sort_columns(db: sqlite3.Connection) -> None:
    for table in TABLES:
        indexed = {tuple(row[2] for row in db.execute(f'PRAGMA index_info("{index[1]}")'))
                   for index in db.execute(f'PRAGMA index_list("{table.name}")')}
        for columns in table.indexes:
            assert columns in indexed, f"{table.name}{columns}"
    assert {("sort_date", "id"), ("year",), ("release_status",)} <= set(next(t for t in TABLES if t.name == "events").indexes)


def _sorted_values(tables: dict[str, list[dict[str, Any]]], name: str) -> list[tuple[Any, ...]]:
    table = BY_NAME[name]
    return sorted((tuple(map(row.get, table.column_names)) for row in tables.get(name, [])), key=table.values_key)


def test_a_table_is_indexed_before_the_next_is_filled(tables: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    """`index` makes the last table's indexes at once (a full build's database process, while the build still writes
    the next tables), and filling the next table makes them otherwise: the same steps, so the same bytes."""
    def made(database: NewDatabase) -> set[str]:
        """The indexes made, and the full-text indexes holding anything (each is created, empty, with its table)."""
        searched = {table.name for table in TABLES if table.search} & {"events", "event_types"}
        return {row[0] for row in database.connection.execute("select name from sqlite_master where type = 'index'")} \
            | {f"{name}_fts" for name in searched
               if database.connection.execute(f'select count(*) from "{name}_fts_docsize"').fetchone()[0]}

    events = {f"idx_events_{'_'.join(columns)}" for columns in BY_NAME["events"].indexes} | {"events_fts"}
    paths = []
    for indexed_at_once in (True, False):
        paths.append(tmp_path / f"{indexed_at_once}.db")
        with NewDatabase(paths[-1]) as database:
            database.add_rows(BY_NAME["events"], _sorted_values(tables, "events"))
            assert not events & made(database)
            if indexed_at_once:
                database.index()
                assert events <= made(database)
            database.add_rows(BY_NAME["event_types"], _sorted_values(tables, "event_types"))
            assert events <= made(database)
            assert not any(name.startswith("idx_event_types") for name in made(database))
    assert paths[0].read_bytes() == paths[1].read_bytes()


def test_a_table_never_filled_is_indexed_when_finished(tmp_path: Path) -> None:
    with NewDatabase(tmp_path / "x.db") as database:
        pass
    with sqlite3.connect(database.path) as db:
        assert "quotes_fts" in {row[0] for row in db.execute("select name from sqlite_master")}
        indexed = {row[1] for row in db.execute('PRAGMA index_list("events")')}
    assert {f"idx_events_{'_'.join(columns)}" for columns in BY_NAME["events"].indexes} <= indexed


def _made(tables: dict[str, list[dict[str, Any]]], path: Path, previous: Path, search_from: dict[str, str]) -> Path:
    with NewDatabase(path, {"previous": previous}, search_from) as database:
        for table in ORDER:
            database.add_rows(table, _sorted_values(tables, table.name))
    return path


def test_a_full_text_index_is_copied_from_a_database_with_the_same_rows(tables: dict[str, list[dict[str, Any]]],
                                                                        database: Path, tmp_path: Path) -> None:
    """A table whose rows are all as they were in another database takes that one's index rather than making it
    again: the same rows make the same index, so the same bytes."""
    copied = _made(tables, tmp_path / "copied.db", database, {"quotes": "previous", "person_names": "previous"})
    assert copied.read_bytes() == database.read_bytes()
    marked = tmp_path / "marked.db"  # the same rows, and a setting of the quotes' index, held in its own tables
    marked.write_bytes(database.read_bytes())
    with closing(sqlite3.connect(marked)) as db, db:
        db.execute("INSERT INTO quotes_fts (quotes_fts, rank) VALUES ('rank', 'bm25(2.0)')")
    settings = {}
    for name, search_from in (("taken", {"quotes": "previous"}), ("made", {})):
        with closing(sqlite3.connect(_made(tables, tmp_path / f"{name}.db", marked, search_from))) as db:
            settings[name] = db.execute("select k from quotes_fts_config order by k").fetchall()
            for table in ("events", "person_names", "quotes"):
                db.execute(f"INSERT INTO {table}_fts ({table}_fts) VALUES ('integrity-check')")  # raises if unsound
            assert search(db, "person_names", "Коулл", "person_id") == ["john-coale"]
    assert settings == {"taken": [("rank",), ("version",)], "made": [("version",)]}


def search(db: sqlite3.Connection, table: str, query: str, column: str) -> list[Any]:
    sql = f'select "{table}"."{column}" from "{table}_fts" join "{table}" on "{table}".rowid = "{table}_fts".rowid ' \
          f'where "{table}_fts" match ? order by 1'
    return [row[0] for row in db.execute(sql, (query,))]


def test_full_text_search_finds_a_name_variant(db: sqlite3.Connection) -> None:
    assert search(db, "person_names", "Коулл", "person_id") == ["john-coale"]
    assert search(db, "person_names", "Коула", "person_id") == ["john-coale"]
    assert set(search(db, "person_names", "коул*", "person_id")) == {"john-coale"}


def test_full_text_search_on_events_and_quotes(db: sqlite3.Connection) -> None:
    assert search(db, "events", "Belavia", "id") == ["2025-09-11-coale-visits-minsk"]
    assert search(db, "events", "Tikhanovsky", "id") == ["2025-06-21-kellogg-visits-minsk"]
    assert "2025-06-21-kellogg-visits-minsk" in search(db, "quotes", "Тихановский", "event_id")


def test_same_tables_give_the_same_dump_and_bytes(tables: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    first, second = write_sqlite(tables, tmp_path / "a.db"), write_sqlite(tables, tmp_path / "b.db")
    assert dump(first) == dump(second)
    assert first.read_bytes() == second.read_bytes()


def test_refuses_to_overwrite(tables: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    path.write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        write_sqlite(tables, path)
    assert path.read_bytes() == b"keep"


def test_canned_queries_in_metadata_run(db: sqlite3.Connection) -> None:
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    queries = metadata["databases"]["belarus-releases"]["queries"]
    assert {"releases_over_time", "release_totals_by_category", "aggregate_statements", "people_by_events",
            "sanctions_timeline"} <= set(queries)
    for name, query in queries.items():
        params = {"name": "Коулл"} if ":name" in query["sql"] else {}
        assert db.execute(query["sql"], params).fetchall(), f"{name} returned nothing"


def _query(db: sqlite3.Connection, name: str) -> list[sqlite3.Row]:
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    db.row_factory = sqlite3.Row
    return db.execute(metadata["databases"]["belarus-releases"]["queries"][name]["sql"]).fetchall()


def test_releases_over_time_running_totals_per_category(db: sqlite3.Connection) -> None:
    rows = _query(db, "releases_over_time")
    recorded = [row for row in rows if row["kind"] == "recorded release"]
    released = db.execute("select event_id, at_least from releases where status = 'released' and scope = 'single' "
                          "order by sort_date, event_id").fetchall()
    assert [row["id"] for row in recorded] == [row["event_id"] for row in released]
    total = 0
    for row, wanted in zip(recorded, released, strict=True):
        total += wanted["at_least"] or 0
        assert row["recorded_total_all"] == total
    assert total == 3 + 14 + 52  # the fixture's three releases, the proposed ones left out
    last = recorded[-1]
    # the fixture's February release is two Belarusian political prisoners and one American
    assert (last["recorded_total_political_prisoners"], last["recorded_total_foreign_nationals"]) == (2 + 14 + 52, 1)
    assert last["recorded_total_criminal_charges"] == last["recorded_total_unknown"] == 0
    [held] = [row for row in rows if row["kind"] != "recorded release"]  # the fixture's one count of prisoners held
    assert held["kind"] == "prisoners held in the sources (not added)" and held["recorded_total_all"] is None


def test_release_totals_by_category_add_up_to_all(db: sqlite3.Connection) -> None:
    rows = {row["category"]: row for row in _query(db, "release_totals_by_category")}
    assert list(rows) == ["political-prisoners", "criminal-charges", "foreign-nationals", "unknown", "all categories"]
    parts = db.execute("select category, sum(release_categories.at_least) from release_categories join releases using (event_id) "
                       "where status = 'released' and scope = 'single' group by category").fetchall()
    for category, at_least in parts:
        assert rows[category]["at_least_total"] == at_least
    assert rows["all categories"]["at_least_total"] == sum(row["at_least_total"] for name, row in rows.items()
                                                          if name != "all categories")
    assert rows["criminal-charges"]["releases"] == 0 and rows["criminal-charges"]["at_least_total"] == 0


def test_aggregate_statements_quote_their_words(db: sqlite3.Connection) -> None:
    [held] = _query(db, "aggregate_statements")  # the fixture has one count of prisoners held and no aggregate
    assert (held["kind"], held["sources_say"], held["reported_by"]) == (
        "prisoners held", "at-least 1000", "Western human rights organisations")
    assert held["source_files"] == "001_790b11e98959b71b.txt" and "1 000" in held["quotes"]
    assert (held["as_of"], held["as_of_date"]) == ("2025-11-01", "2025-11-01 to 2025-11-26")


def test_person_by_name_query_finds_a_spelling(db: sqlite3.Connection) -> None:
    metadata = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))
    sql = metadata["databases"]["belarus-releases"]["queries"]["person_by_name"]["sql"]
    assert {row[0] for row in db.execute(sql, {"name": "Коулл"})} == {"john-coale"}
    assert db.execute(sql, {"name": 'a "quoted" OR name'}).fetchall() == []  # no FTS syntax error


def test_statement_problems_compile_without_running(database: Path, db: sqlite3.Connection) -> None:
    before = db.execute("select count(*) from events").fetchone()[0]
    statements = {"good": "select id from events where id = :id", "bad": "select nope from events",
                  "bad_table": "select 1 from nowhere", "write": "delete from events"}
    problems = statement_problems(database, statements)
    assert set(problems) == {"bad", "bad_table"}
    assert "nope" in problems["bad"] and "nowhere" in problems["bad_table"]
    assert db.execute("select count(*) from events").fetchone()[0] == before > 0  # only compiled, never run


@pytest.mark.parametrize("keys", [["b", "a"], ["a", "a"]], ids=["out of order", "repeated"])
def test_rows_not_in_strict_key_order_are_refused(tmp_path: Path, keys: list[str]) -> None:
    """A full build's rows go in as they come: out of order, they would give other bytes than an incremental build."""
    database = NewDatabase(tmp_path / "x.db")
    try:
        with pytest.raises(ValueError, match="the rows of event_former_ids are not in primary-key order"):
            database.add_rows(BY_NAME["event_former_ids"], [(key, "e") for key in keys])
    finally:
        database.close()
