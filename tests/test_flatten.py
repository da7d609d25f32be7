"""flatten: valid records and registries -> related tables, every column present, rows sorted by primary key."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from belarus_releases.check.dataset import check_dataset
from belarus_releases.export.flatten import RECORD_TABLES, flatten, flatten_data, release_min, sort_date
from belarus_releases.layout import Layout
from belarus_releases.tables import BY_NAME, TABLES
from build_support import fixture_data, use_fixture_dataset


@pytest.fixture(scope="module")
def tables() -> dict[str, list[dict[str, Any]]]:
    return flatten_data(*fixture_data())


def by_key(rows: list[dict[str, Any]], **wanted: Any) -> list[dict[str, Any]]:
    return [row for row in rows if all(row[key] == value for key, value in wanted.items())]


def test_flatten_of_a_checked_dataset_equals_flatten_of_its_data(repo: Layout) -> None:
    result = check_dataset(use_fixture_dataset(repo))
    assert result.ok, [p.to_text() for p in result.problems]
    assert flatten(result) == flatten_data(*fixture_data())


def test_every_table_has_exactly_its_columns_in_order(tables: dict[str, list[dict[str, Any]]]) -> None:
    assert list(tables) == [table.name for table in TABLES]
    for table in TABLES:
        assert tables[table.name], f"the fixture should give rows for {table.name}"
        for row in tables[table.name]:
            assert list(row) == table.column_names


def test_each_row_of_a_record_table_names_the_record_it_comes_from(tables: dict[str, list[dict[str, Any]]]) -> None:
    """The tables made from records are those with a contributor column, which holds an event id in every row: what
    an incremental build finds a changed record's rows by."""
    assert {table.name for table in TABLES if table.contributor} == set(RECORD_TABLES)
    events = {row["id"] for row in tables["events"]}
    for table in TABLES:
        if table.contributor:
            assert table.column(table.contributor).required
            assert {row[table.contributor] for row in tables[table.name]} <= events, table.name


def test_rows_are_sorted_by_primary_key_which_is_unique(tables: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        keys = [table.sort_key(row) for row in tables[table.name]]
        assert keys == sorted(keys), table.name
        assert len(set(keys)) == len(keys), f"duplicate primary key in {table.name}"


def test_required_columns_have_values(tables: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        for column in table.columns:
            if column.required:
                assert all(row[column.name] is not None for row in tables[table.name]), f"{table.name}.{column.name}"


def test_every_foreign_key_resolves(tables: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        for fk in table.foreign_keys:
            targets = {row[fk.other_column] for row in tables[fk.other_table]}
            for row in tables[table.name]:  # an empty reference (an unnamed official's person) refers to nothing
                assert row[fk.column] is None or row[fk.column] in targets, f"{table.name}.{fk.column} = {row[fk.column]!r}"


def test_event_row_of_a_range_date(tables: dict[str, list[dict[str, Any]]]) -> None:
    [event] = by_key(tables["events"], id="2025-11-01-talks-on-large-release")
    assert event["date"] is None
    assert event["date_precision"] == "range"
    assert (event["date_earliest"], event["date_latest"]) == ("2025-11-01", "2025-11-26")
    assert event["sort_date"] == "2025-11-01" and event["year"] == 2025
    assert event["types"] == ["negotiation", "sanctions-change"]
    assert event["location_place"] is None and event["location_country"] is None
    assert (event["release_status"], event["release_count"], event["release_qualifier"]) == ("proposed", 100, "at-least")
    assert event["release_min"] == 100
    assert (event["source_count"], event["quote_count"]) == (2, 6)


def test_event_counts_follow_the_record() -> None:
    records, people, sources = fixture_data()
    record = copy.deepcopy(records[0])
    record["sources"].append(copy.deepcopy(record["sources"][0]))  # the same file cited twice counts once
    [event] = flatten_data([record], people, sources)["events"]
    assert event["source_count"] == len({source["file"] for source in record["sources"]})
    assert event["quote_count"] == sum(len(source["quotes"]) for source in record["sources"])


@pytest.mark.parametrize(("date", "expected"), [
    ({"value": "2025-09-11", "precision": "day"}, "2025-09-11"),
    ({"value": "2025-09", "precision": "month"}, "2025-09-01"),
    ({"value": "2025", "precision": "year"}, "2025-01-01"),
    ({"precision": "range", "earliest": "2025-03-04", "latest": "2025-04-01"}, "2025-03-04"),
    ({"precision": "range", "latest": "2025-04-01"}, "2025-03-15"),  # no earliest: the id's date
])
def test_sort_date_is_the_first_possible_day(date: dict[str, str], expected: str) -> None:
    assert sort_date({"id": "2025-03-15-x", "date": date}).isoformat() == expected


@pytest.mark.parametrize(("release", "expected"), [
    (None, None),
    ({"qualifier": "exact", "count": 52}, 52),
    ({"qualifier": "at-least", "count": 100}, 100),
    ({"qualifier": "about", "count": 50}, 50),
    ({"qualifier": "up-to", "count": 30}, None),
    ({"qualifier": "up-to", "count": 30, "low": 10}, 10),
    ({"qualifier": "about", "low": 40, "high": 60}, 40),
    ({"qualifier": "exact", "high": 60}, None),
])
def test_release_min_is_the_lowest_number_allowed(release: dict[str, Any] | None, expected: int | None) -> None:
    assert release_min(release) == expected


def test_releases_keep_lists_and_leave_out_empty_ones(tables: dict[str, list[dict[str, Any]]]) -> None:
    [coale] = by_key(tables["releases"], event_id="2025-09-11-coale-visits-minsk")
    assert coale["nationalities"] == ["LT", "LV", "PL", "DE", "FR", "GB"]
    assert coale["destinations"] == ["LT"]
    assert coale["foreign_nationals"] == 14
    [call] = by_key(tables["releases"], event_id="2025-08-15-trump-lukashenko-call")
    assert call["nationalities"] is None and call["destinations"] is None and call["low"] is None
    assert by_key(tables["released_people"], person_id="sergei-tikhanovsky") == [
        {"event_id": "2025-06-21-kellogg-visits-minsk", "person_id": "sergei-tikhanovsky"}]


def test_event_without_release_has_no_releases_row() -> None:
    records, people, sources = fixture_data()
    record = copy.deepcopy(records[0])
    del record["release"]
    tables = flatten_data([record], people, sources)
    assert tables["releases"] == [] and tables["released_people"] == []
    assert tables["events"][0]["release_status"] is None and tables["events"][0]["release_min"] is None


def test_every_name_form_is_a_person_names_row(tables: dict[str, list[dict[str, Any]]]) -> None:
    coale = {(row["lang"], row["name"]): row["kind"] for row in by_key(tables["person_names"], person_id="john-coale")}
    assert coale == {
        ("en", "John Coale"): "display", ("ru", "Джон Коул"): "display", ("uk", "Джон Коул"): "display",
        ("uk", "Джон Коулл"): "spelling", ("ru", "Джона Коула"): "inflected", ("ru", "Джоном Коулом"): "inflected",
    }


def test_a_variant_repeating_a_display_name_is_listed_once() -> None:
    _, people, sources = fixture_data()
    person = copy.deepcopy(people[0])
    person["variants"].append({"text": person["name"]["ru"], "lang": "ru", "kind": "spelling"})
    rows = flatten_data([], [person], sources)["person_names"]
    assert by_key(rows, lang="ru", name=person["name"]["ru"]) == [
        {"person_id": person["id"], "lang": "ru", "name": person["name"]["ru"], "kind": "display", "basis": None,
         "derived_from": None}]


def test_roles_officials_sanctions_and_quotes_keep_their_order(tables: dict[str, list[dict[str, Any]]]) -> None:
    roles = by_key(tables["person_roles"], person_id="john-coale")
    assert [(r["position"], r["title"], r["from_date"]) for r in roles] == [
        (0, "Deputy to the Special Envoy Keith Kellogg", "2025-09"), (1, "Special Envoy to Belarus", "2025-11")]
    officials = by_key(tables["event_officials"], event_id="2025-09-11-coale-visits-minsk")
    assert [o["person_id"] for o in officials] == ["john-coale", "christopher-smith", "alexander-lukashenko"]
    [change] = by_key(tables["sanctions_changes"], event_id="2025-09-11-coale-visits-minsk")
    assert change == {"event_id": "2025-09-11-coale-visits-minsk", "position": 0, "authority": "United States",
                      "action": "lifted", "target": "Belavia", "sector": "aviation"}
    quotes = by_key(tables["quotes"], event_id="2025-09-11-coale-visits-minsk")
    assert [q["position"] for q in quotes] == [0, 1, 2, 3, 4]  # counted across both sources
    assert [q["source_file"] for q in quotes][-1] == "002_41bf7174e2aa2ff5.txt"
    assert quotes[3]["supports"] == ["sanctions_changes.0"]


def test_sources_rows(tables: dict[str, list[dict[str, Any]]]) -> None:
    [nyt] = by_key(tables["sources"], file="003_9b2d8587e965d613.txt")
    assert nyt["relays"] == ["Укрінформ"] and nyt["original_reporter"] == "The New York Times" and nyt["outlet"] is None
    assert [row["file"] for row in tables["sources"]] == sorted(row["file"] for row in tables["sources"])


def _properties(schema: dict[str, Any], *path: str) -> set[str]:
    node: Any = schema
    for part in path:
        node = node[part]
    return set(node["properties"])


def test_no_schema_field_is_silently_dropped(real: Layout) -> None:
    """A field added to a schema must get a column (or be mapped here on purpose)."""
    record = json.loads(real.schema("record").read_text(encoding="utf-8"))
    people = json.loads(real.schema("people").read_text(encoding="utf-8"))
    sources = json.loads(real.schema("sources").read_text(encoding="utf-8"))
    columns = {name: set(table.column_names) for name, table in BY_NAME.items()}
    assert _properties(record["$defs"], "release") - {"people", "categories"} <= columns["releases"]
    assert {f"date_{key}" for key in _properties(record["$defs"], "eventDate")} - {"date_value"} <= columns["releases"]
    assert _properties(record["$defs"], "releaseCategory") <= columns["release_categories"]
    assert _properties(record["$defs"], "sanctionsChange") <= columns["sanctions_changes"]
    assert {f"date_{key}" for key in _properties(record["$defs"], "eventDate")} - {"date_value"} <= columns["events"]
    assert {f"location_{key}" for key in _properties(record, "properties", "location")} <= columns["events"]
    assert _properties(record["$defs"], "official") - {"person"} <= columns["event_officials"]
    assert _properties(record["$defs"], "prisonersHeld") - {"date"} <= columns["prisoners_held"]
    assert {f"date_{key}" for key in _properties(record["$defs"], "eventDate")} - {"date_value"} <= columns["prisoners_held"]
    assert _properties(record["$defs"], "link") == {"event", "relation"}  # other_event_id and relation in event_links
    assert _properties(record) == {"id", "former_ids", "date", "title", "summary", "types", "location", "officials",
                                   "release", "sanctions_changes", "links", "prisoners_held", "sources", "notes"}
    assert _properties(sources["$defs"], "source") <= columns["sources"]
    assert _properties(people["$defs"], "person") == {"id", "name", "variants", "roles", "notes"}
    assert {f"name_{lang}" for lang in _properties(people["$defs"], "person", "properties", "name")} <= columns["people"]
    variant = _properties(people["$defs"], "person", "properties", "variants", "items")
    assert variant == {"text", "lang", "kind", "basis", "from"}  # from is person_names.derived_from
    role = _properties(people["$defs"], "person", "properties", "roles", "items")
    assert role == {"title", "side", "from", "until", "evidence"}


def test_links_are_published_from_both_ends(tables: dict[str, list[dict[str, Any]]]) -> None:
    coale, kellogg = "2025-09-11-coale-visits-minsk", "2025-06-21-kellogg-visits-minsk"
    assert tables["event_links"] == [
        {"event_id": kellogg, "relation": "before", "other_event_id": coale, "stated_in": coale, "position": 0},
        {"event_id": coale, "relation": "after", "other_event_id": kellogg, "stated_in": coale, "position": 0},
    ]


def test_categories_give_the_parts_of_a_release_and_their_minimum(tables: dict[str, list[dict[str, Any]]]) -> None:
    parts = {(row["event_id"][:10], row["category"]): (row["count"], row["at_least"])
             for row in tables["release_categories"]}
    assert parts == {
        ("2025-02-12", "political-prisoners"): (2, 2), ("2025-02-12", "foreign-nationals"): (1, 1),
        ("2025-06-21", "political-prisoners"): (None, 14),  # the whole release: its minimum
        ("2025-08-15", "unknown"): (None, 1300), ("2025-09-11", "political-prisoners"): (None, 52),
        ("2025-11-01", "unknown"): (None, 100),
    }


@pytest.mark.parametrize(("qualifier", "part", "expected"), [
    ("exact", {"category": "unknown", "count": 5}, 5),
    ("at-least", {"category": "unknown"}, 10),
    ("up-to", {"category": "unknown", "count": 5}, None),
    ("vague", {"category": "unknown"}, None),
])
def test_part_minimum_follows_the_release_qualifier(qualifier: str, part: dict[str, Any], expected: int | None) -> None:
    from belarus_releases.export.flatten import part_min

    release = {"qualifier": qualifier, "categories": [part]} | ({"count": 10} if qualifier != "vague" else {"words": "x"})
    assert part_min(release, part) == expected


def test_a_vague_count_gives_no_number() -> None:
    assert release_min({"qualifier": "vague", "words": "десятки"}) is None


def test_former_ids_prisoners_held_and_release_dates(tables: dict[str, list[dict[str, Any]]]) -> None:
    talks = "2025-11-01-talks-on-large-release"
    assert tables["event_former_ids"] == [{"former_id": "2025-11-26-talks-on-large-release", "event_id": talks}]
    [held] = tables["prisoners_held"]
    assert (held["count"], held["qualifier"], held["at_least"], held["reported_by"]) == (
        1000, "at-least", 1000, "Western human rights organisations")
    # as of the record's date, from the one source whose quote gives it
    assert (held["date_precision"], held["date_earliest"], held["sort_date"]) == ("range", "2025-11-01", "2025-11-01")
    assert held["source_files"] == ["001_790b11e98959b71b.txt"]
    records, people, sources = fixture_data()
    record = copy.deepcopy(next(r for r in records if r["id"] == "2025-06-21-kellogg-visits-minsk"))
    record["release"]["date"] = {"precision": "range", "earliest": "2025-06-21", "latest": "2025-09-15"}
    [release] = flatten_data([record], people, sources)["releases"]
    assert (release["date_earliest"], release["date_latest"], release["sort_date"]) == ("2025-06-21", "2025-09-15",
                                                                                        "2025-06-21")


def test_an_editorial_name_form_keeps_its_basis(tables: dict[str, list[dict[str, Any]]]) -> None:
    [form] = by_key(tables["person_names"], kind="editorial")
    assert (form["name"], form["derived_from"], form["lang"]) == ("Sergey Tikhanovskiy", "Сергей Тихановский", "en")
    assert form["basis"]
