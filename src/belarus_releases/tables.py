"""The published tables, defined once: column names and types, primary keys, foreign keys, indexes, search.

SQLite (export/sqlite.py), CSV and JSON (export/files.py) and datapackage.json (export/datapackage.py) are all derived
from `TABLES`. Descriptions are not here: they live in metadata.yml, which Datasette reads too.

Column types are logical types, named as in Frictionless Table Schema:
- string: text, never converted to a number ("007" stays "007");
- integer: a whole number;
- date: an ISO date YYYY-MM-DD (stored as TEXT in SQLite);
- array: a list, written as a JSON array in CSV and SQLite (a real array in the JSON files).

Why JSON arrays rather than comma-separated codes for lists (types, nationalities, destinations, relays,
supports): one convention for every list; Datasette can facet them (`_facet_array`); DuckDB reads them with
`from_json(col, '["VARCHAR"]')`, R with `jsonlite::fromJSON`, pandas with `.map(json.loads)`; and a lone
country code such as NA (Namibia) stays `["NA"]`, where a bare `NA` cell is read as missing by pandas and
R's default na.strings.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

LOGICAL_TYPES = ("string", "integer", "date", "array")


@dataclass(frozen=True)
class Column:
    """One column: its name, logical type, and whether every row must have a value."""

    name: str
    type: str = "string"
    required: bool = False

    def __post_init__(self) -> None:
        if self.type not in LOGICAL_TYPES:
            raise ValueError(f"unknown column type {self.type!r}")


@dataclass(frozen=True)
class ForeignKey:
    """`column` of this table refers to `other_column` of `other_table`."""

    column: str
    other_table: str
    other_column: str


@dataclass(frozen=True)
class Table:
    """One published table."""

    name: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    # Every facet and sort column in metadata.yml and every foreign key leads an index or the primary key
    # (tests/test_site_facets.py): Datasette's facet counts and the event page's counts then read only an index.
    indexes: tuple[tuple[str, ...], ...] = ()
    search: tuple[str, ...] = ()  # columns indexed for full-text search
    # In a table made from event records, the column naming the record each row comes from (a link's rows come from
    # the record that states it), so that a record's rows can be found and replaced (export/incremental.py); None
    # in a registry's table.
    contributor: str | None = None

    @property
    def column_names(self) -> list[str]:
        return [column.name for column in self.columns]

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(f"{self.name} has no column {name!r}")

    def sort_key(self, row: dict[str, Any]) -> tuple[Any, ...]:
        return tuple(row[name] for name in self.primary_key)

    @property
    def key_positions(self) -> tuple[int, ...]:
        """Where the primary key's columns are in a row of values (column order)."""
        names = self.column_names
        return tuple(names.index(name) for name in self.primary_key)

    @property
    def values_key(self) -> Callable[[Sequence[Any]], Any]:
        """A row of values' primary key (column order), as rows are sorted by: one value for a one-column key."""
        return itemgetter(*self.key_positions)


def _s(name: str, required: bool = False) -> Column:
    return Column(name, "string", required)


def _i(name: str, required: bool = False) -> Column:
    return Column(name, "integer", required)


def _d(name: str, required: bool = False) -> Column:
    return Column(name, "date", required)


def _a(name: str, required: bool = False) -> Column:
    return Column(name, "array", required)


def _event(column: str = "event_id") -> ForeignKey:
    return ForeignKey(column, "events", "id")


def _person(column: str = "person_id") -> ForeignKey:
    return ForeignKey(column, "people", "id")


# Tables are listed so that every table comes after the tables its foreign keys point to.
TABLES: tuple[Table, ...] = (
    Table("events", (
        _s("id", True), _s("date"), _s("date_precision", True), _d("date_earliest"), _d("date_latest"), _s("date_basis"),
        _d("sort_date", True), _i("year", True), _s("title", True), _s("summary", True), _a("types", True),
        _s("location_place"), _s("location_country"), _s("release_status"), _s("release_scope"), _i("release_count"),
        _s("release_qualifier"), _i("release_low"), _i("release_high"), _i("release_min"),
        _i("source_count", True), _i("quote_count", True), _s("notes"),
    ), ("id",), indexes=(("sort_date", "id"), ("year",), ("date_precision",), ("release_status",), ("location_country",)),
        search=("title", "summary", "notes"), contributor="id"),
    Table("people", (_s("id", True), _s("name_en", True), _s("name_en_basis"), _s("name_ru"), _s("name_uk"), _s("name_be"),
                      _s("notes")),
          ("id",), indexes=(("name_en",),)),
    Table("sources", (
        _s("file", True), _s("title", True), _s("url"), _s("outlet"), _a("relays"), _s("original_reporter"),
        _s("published"), _d("retrieved"), _s("language", True), _s("sha256", True), _s("notes"),
    ), ("file",), indexes=(("language",), ("original_reporter",))),
    Table("event_types", (_s("event_id", True), _s("type", True)), ("event_id", "type"), (_event(),),
          indexes=(("type",),), contributor="event_id"),
    Table("person_names", (_s("person_id", True), _s("lang", True), _s("name", True), _s("kind"), _s("basis"),
                            _s("derived_from")),
          ("person_id", "lang", "name"), (_person(),), indexes=(("lang",), ("kind",)), search=("name",)),
    Table("person_roles", (
        _s("person_id", True), _i("position", True), _s("title", True), _s("side", True), _s("from_date"), _s("until_date"),
    ), ("person_id", "position"), (_person(),), indexes=(("side",),)),
    Table("event_officials", (
        _s("event_id", True), _i("position", True), _s("person_id"), _s("unnamed"), _s("as_written"), _s("role", True),
        _a("other_roles"), _s("side", True), _s("basis"),
    ), ("event_id", "position"), (_event(), _person()), indexes=(("person_id",), ("side",)), contributor="event_id"),
    Table("releases", (
        _s("event_id", True), _s("status", True), _s("scope", True), _i("count"), _s("qualifier", True), _i("low"), _i("high"),
        _s("words"), _s("words_en"), _i("at_least"), _s("count_basis"), _i("foreign_nationals"), _a("nationalities"),
        _a("destinations"), _s("date"), _s("date_precision"), _d("date_earliest"), _d("date_latest"), _s("date_basis"),
        _d("sort_date", True),
    ), ("event_id",), (_event(),), indexes=(("status",), ("qualifier",), ("sort_date",)), contributor="event_id"),
    Table("release_categories", (
        _s("event_id", True), _i("position", True), _s("category", True), _i("count"), _i("at_least"), _s("basis"),
    ), ("event_id", "position"), (_event(),), indexes=(("category",),), contributor="event_id"),
    Table("released_people", (_s("event_id", True), _s("person_id", True)), ("event_id", "person_id"),
          (_event(), _person()), indexes=(("person_id",),), contributor="event_id"),
    Table("sanctions_changes", (
        _s("event_id", True), _i("position", True), _s("authority", True), _s("action", True), _s("target", True),
        _s("sector"),
    ), ("event_id", "position"), (_event(),), indexes=(("action",), ("sector",), ("authority",)), contributor="event_id"),
    Table("event_links", (
        _s("event_id", True), _s("relation", True), _s("other_event_id", True), _s("stated_in", True), _i("position", True),
    ), ("event_id", "relation", "other_event_id"),
        (_event(), ForeignKey("other_event_id", "events", "id"), ForeignKey("stated_in", "events", "id")),
        indexes=(("other_event_id",), ("stated_in",), ("relation",)), contributor="stated_in"),
    Table("event_former_ids", (_s("former_id", True), _s("event_id", True)), ("former_id",), (_event(),),
          indexes=(("event_id",),), contributor="event_id"),
    Table("prisoners_held", (
        _s("event_id", True), _i("position", True), _i("count", True), _s("qualifier", True), _i("at_least"),
        _s("category", True), _s("reported_by", True), _s("date"), _s("date_precision", True), _d("date_earliest"),
        _d("date_latest"), _s("date_basis"), _d("sort_date", True), _a("source_files", True),
    ), ("event_id", "position"), (_event(),), indexes=(("sort_date",), ("reported_by",), ("category",)), contributor="event_id"),
    Table("quotes", (
        _s("event_id", True), _i("position", True), _s("source_file", True), _s("text", True), _a("supports", True),
    ), ("event_id", "position"), (_event(), ForeignKey("source_file", "sources", "file")),
        indexes=(("source_file",),), search=("text",), contributor="event_id"),
)

BY_NAME: dict[str, Table] = {table.name: table for table in TABLES}
