"""Export, flatten: valid records and the two registries -> related tables, rows sorted by primary key.

Rows are plain dicts with every column of the table (None where the record says nothing); lists stay
Python lists here and each writer decides how to write them. Nothing is checked again: the input is
what `check_dataset` accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from belarus_releases.check.dataset import CheckResult
from belarus_releases.problems import JsonPath
from belarus_releases.record import NAME_LANGS, date_span, entries, name_forms, quotes
from belarus_releases.tables import TABLES, Table

Row = dict[str, Any]
Tables = dict[str, list[Row]]
Values = tuple[Any, ...]
"""A row as its values in column order: how the writers take rows (a fraction of a dict's memory)."""
QuoteTexts = Mapping[tuple[str, JsonPath], str]


def flatten(result: CheckResult) -> Tables:
    """The tables for everything `check_dataset` found valid."""
    return flatten_data(*inputs(result))


def flatten_values(result: CheckResult) -> dict[str, list[Values]]:
    """Every table's rows as values in column order: what the build writes, in a fraction of `flatten`'s memory."""
    records, people, sources, quote_texts = inputs(result)
    return {table.name: table_values(table, records, people, sources, quote_texts) for table in TABLES}


def inputs(result: CheckResult) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], QuoteTexts]:
    """What the tables are made of: the records, people and sources as plain data, and the quotes as found."""
    records = [loaded.data for loaded in result.records]
    people = entries(result.people, "people") if result.people else []
    return records, people, source_entries(result), result.quote_texts


def source_entries(result: CheckResult) -> list[dict[str, Any]]:
    """The source registry's entries."""
    return entries(result.sources, "sources") if result.sources else []


def flatten_data(records: Iterable[dict[str, Any]], people: Iterable[dict[str, Any]],
                 sources: Iterable[dict[str, Any]], quote_texts: QuoteTexts | None = None) -> Tables:
    """The tables for plain record, person and source dicts (as in records/*.yml and registry/*.yml).

    A quote is published as its source writes it (`quote_texts`, from the check) where it was found there."""
    records, people, sources = list(records), list(people), list(sources)
    return {table.name: [dict(zip(table.column_names, values, strict=True))
                         for values in table_values(table, records, people, sources, quote_texts or {})]
            for table in TABLES}


def table_values(table: Table, records: Iterable[dict[str, Any]], people: Iterable[dict[str, Any]],
                 sources: Iterable[dict[str, Any]], quote_texts: QuoteTexts) -> list[Values]:
    """One table's rows as values in column order (None where the record says nothing), sorted by primary key.

    One table at a time, so that a build holds the rows of one table, never of all of them."""
    if table.name in RECORD_TABLES:
        make = RECORD_TABLES[table.name]
        rows: Iterable[Row] = (row for record in records for row in make(record, quote_texts))
    else:
        rows = (row for entry in (sources if table.name == "sources" else people)
                for row in REGISTRY_TABLES[table.name](entry))
    names = table.column_names
    return sort_values(table, [tuple(map(row.get, names)) for row in rows])


def sort_values(table: Table, values: list[Values]) -> list[Values]:
    """Rows sorted by primary key (in place; returned for convenience)."""
    values.sort(key=table.values_key)
    return values


def sort_date(record: dict[str, Any]) -> dt.date:
    """The first possible day of the event; when only a latest day is known, the day the id starts with."""
    low, _ = date_span(record["date"])
    return low if low != dt.date.min else dt.date.fromisoformat(record["id"][:10])


def first_day(date: dict[str, Any] | None, otherwise: dt.date) -> dt.date:
    """The first possible day of a date other than the event's (a release's, an observation's), else `otherwise`."""
    if not date:
        return otherwise
    low, _ = date_span(date)
    return low if low != dt.date.min else otherwise


def release_min(release: dict[str, Any] | None) -> int | None:
    """The lowest number of people the record allows: low when given, else the count unless it is only an upper bound;
    none for a vague count ('dozens'), which gives no number."""
    if not release:
        return None
    if release.get("low") is not None:
        return int(release["low"])
    if release.get("count") is not None and release["qualifier"] not in ("up-to", "vague"):
        return int(release["count"])
    return None


def part_min(release: dict[str, Any], part: dict[str, Any]) -> int | None:
    """The lowest number of people in one part of a release: its count read with the release's qualifier, or the
    whole release's minimum for a part without a count."""
    if part.get("count") is None:
        return release_min(release)
    return None if release["qualifier"] in ("up-to", "vague") else int(part["count"])


INVERSE = {"in-response-to": "prompted", "after": "before", "reverses": "reversed-by"}


def _events(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    yield event_row(record)


def _event_types(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    for type_ in record["types"]:
        yield {"event_id": record["id"], "type": type_}


def _event_officials(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    for position, official in enumerate(record.get("officials", [])):
        yield {"event_id": record["id"], "position": position, **official, "person_id": official.get("person"),
               "other_roles": _list_or_none(official.get("other_roles"))}


def _releases(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    if record.get("release"):
        yield release_row(record["id"], record["release"], sort_date(record))


def _released_people(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    for person in (record.get("release") or {}).get("people", []):
        yield {"event_id": record["id"], "person_id": person}


def _release_categories(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    release = record.get("release") or {}
    for position, part in enumerate(release.get("categories", [])):
        yield {"event_id": record["id"], "position": position, **part, "at_least": part_min(release, part)}


def _sanctions_changes(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    for position, change in enumerate(record.get("sanctions_changes", [])):
        yield {"event_id": record["id"], "position": position, **change}


def _event_links(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    """Each link both ways; both rows are stated in (contributed by) the record that states the link."""
    event_id = record["id"]
    for position, link in enumerate(record.get("links", [])):
        yield {"event_id": event_id, "relation": link["relation"], "other_event_id": link["event"],
               "stated_in": event_id, "position": position}
        yield {"event_id": link["event"], "relation": INVERSE[link["relation"]], "other_event_id": event_id,
               "stated_in": event_id, "position": position}


def _event_former_ids(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    for former in record.get("former_ids", []):
        yield {"former_id": former, "event_id": record["id"]}


def _prisoners_held(record: dict[str, Any], _: QuoteTexts) -> Iterator[Row]:
    for position, held in enumerate(record.get("prisoners_held", [])):
        yield held_row(record, position, held)


def _quotes(record: dict[str, Any], quote_texts: QuoteTexts) -> Iterator[Row]:
    event_id = record["id"]
    for position, (path, file, quote) in enumerate(quotes(record)):
        yield {"event_id": event_id, "position": position, "source_file": file,
               "text": quote_texts.get((event_id, path), quote["text"]), "supports": list(quote["supports"])}


RECORD_TABLES: dict[str, Callable[[dict[str, Any], QuoteTexts], Iterator[Row]]] = {
    "events": _events, "event_types": _event_types, "event_officials": _event_officials, "releases": _releases,
    "released_people": _released_people, "release_categories": _release_categories,
    "sanctions_changes": _sanctions_changes, "event_links": _event_links, "event_former_ids": _event_former_ids,
    "prisoners_held": _prisoners_held, "quotes": _quotes,
}
"""The tables made from event records, each row contributed by one record: the one its `contributor` column names
(tables.py)."""


def event_row(record: dict[str, Any]) -> Row:
    date, location, release = record["date"], record.get("location", {}), record.get("release", {})
    first_day = sort_date(record)
    return {
        "id": record["id"], "date": date.get("value"), "date_precision": date["precision"],
        "date_earliest": date.get("earliest"), "date_latest": date.get("latest"), "date_basis": date.get("basis"),
        "sort_date": first_day.isoformat(), "year": first_day.year,
        "title": record["title"], "summary": record["summary"], "types": list(record["types"]),
        "location_place": location.get("place"), "location_country": location.get("country"),
        "release_status": release.get("status"), "release_scope": release_scope(release),
        "release_count": release.get("count"),
        "release_qualifier": release.get("qualifier"), "release_low": release.get("low"),
        "release_high": release.get("high"), "release_min": release_min(release),
        "source_count": len({source["file"] for source in record["sources"]}),
        "quote_count": sum(len(source["quotes"]) for source in record["sources"]),
        "notes": record.get("notes"),
    }


def release_scope(release: dict[str, Any]) -> str | None:
    """single unless the record says aggregate; None when the event has no release."""
    return release.get("scope", "single") if release else None


def release_row(event_id: str, release: dict[str, Any], event_first_day: dt.date) -> Row:
    """The release, with its own date when the sources give one, and the first day it can have happened (the event's
    first day otherwise), which orders releases in running totals."""
    return {"event_id": event_id, **{key: value for key, value in release.items() if key not in ("people", "categories")},
            "scope": release_scope(release), "at_least": release_min(release),
            "nationalities": _list_or_none(release.get("nationalities")),
            "destinations": _list_or_none(release.get("destinations")),
            **_date_columns(release.get("date")),
            "sort_date": first_day(release.get("date"), event_first_day).isoformat()}


def _date_columns(date: dict[str, Any] | None) -> Row:
    date = date or {}
    return {"date": date.get("value"), "date_precision": date.get("precision"), "date_earliest": date.get("earliest"),
            "date_latest": date.get("latest"), "date_basis": date.get("basis")}


def held_row(record: dict[str, Any], position: int, held: dict[str, Any]) -> Row:
    """A count of prisoners held: as of its own date, or the record's date when it gives none, with the source files
    of the quotes that support it."""
    date = held.get("date", record["date"])
    files = sorted({file for _, file, quote in quotes(record) if f"prisoners_held.{position}" in quote["supports"]})
    return {"event_id": record["id"], "position": position, **{k: v for k, v in held.items() if k != "date"},
            "at_least": None if held["qualifier"] == "up-to" else held["count"], **_date_columns(date),
            "sort_date": first_day(date, sort_date(record)).isoformat(), "source_files": files}


def _list_or_none(values: list[Any] | None) -> list[Any] | None:
    """A list that says something, or None: an empty list states nothing, so it is written as an empty cell."""
    return list(values) if values else None


def _people(person: dict[str, Any]) -> Iterator[Row]:
    names = person["name"]
    yield {"id": person["id"], **{f"name_{lang}": names.get(lang) for lang in NAME_LANGS},
           "name_en_basis": names.get("en_basis"), "notes": person.get("notes")}


def _person_names(person: dict[str, Any]) -> Iterator[Row]:
    seen: set[tuple[str, str]] = set()
    for path, lang, name, kind in name_forms(person):
        variant = person["variants"][path[1]] if path[0] == "variants" else {}
        if (lang, name) not in seen:  # a form already listed for the same language is not repeated
            seen.add((lang, name))
            yield {"person_id": person["id"], "lang": lang, "name": name, "kind": kind,
                   "basis": variant.get("basis"), "derived_from": variant.get("from")}


def _person_roles(person: dict[str, Any]) -> Iterator[Row]:
    for position, role in enumerate(person.get("roles", [])):
        yield {"person_id": person["id"], "position": position, "title": role["title"],
               "side": role["side"], "from_date": role.get("from"), "until_date": role.get("until")}


def source_row(source: dict[str, Any]) -> Row:
    return {**source, "relays": _list_or_none(source.get("relays"))}


def _sources(source: dict[str, Any]) -> Iterator[Row]:
    yield source_row(source)


REGISTRY_TABLES: dict[str, Callable[[dict[str, Any]], Iterator[Row]]] = {
    "people": _people, "person_names": _person_names, "person_roles": _person_roles, "sources": _sources}
