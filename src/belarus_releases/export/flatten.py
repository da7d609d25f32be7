"""Export, flatten: valid records and the two registries -> related tables, rows sorted by primary key.

Rows are plain dicts with every column of the table (None where the record says nothing); lists stay
Python lists here and each writer decides how to write them. Nothing is checked again: the input is
what `check_dataset` accepted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from belarus_releases.check.dataset import CheckResult
from belarus_releases.problems import JsonPath
from belarus_releases.record import NAME_LANGS, date_span, entries, name_forms, quotes
from belarus_releases.tables import TABLES, Table

Row = dict[str, Any]
Tables = dict[str, list[Row]]


def flatten(result: CheckResult) -> Tables:
    """The tables for everything `check_dataset` found valid."""
    records = [loaded.data for loaded in result.records]
    people = entries(result.people, "people") if result.people else []
    sources = entries(result.sources, "sources") if result.sources else []
    return flatten_data(records, people, sources, result.quote_texts)


def flatten_data(records: Iterable[dict[str, Any]], people: Iterable[dict[str, Any]],
                 sources: Iterable[dict[str, Any]], quote_texts: Mapping[tuple[str, JsonPath], str] | None = None) -> Tables:
    """The tables for plain record, person and source dicts (as in records/*.yml and registry/*.yml).

    A quote is published as its source writes it (`quote_texts`, from the check) where it was found there."""
    rows: Tables = {table.name: [] for table in TABLES}
    for record in records:
        for name, row in record_rows(record, quote_texts or {}):
            rows[name].append(row)
    for person in people:
        for name, row in person_rows(person):
            rows[name].append(row)
    rows["sources"].extend(source_row(source) for source in sources)
    return {table.name: _complete(table, rows[table.name]) for table in TABLES}


def _complete(table: Table, rows: list[Row]) -> list[Row]:
    """Rows with exactly the table's columns, in column order, sorted by primary key."""
    names = table.column_names
    shaped = [{name: row.get(name) for name in names} for row in rows]
    shaped.sort(key=table.sort_key)
    return shaped


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


def record_rows(record: dict[str, Any], quote_texts: Mapping[tuple[str, JsonPath], str]) -> Iterator[tuple[str, Row]]:
    """Every row one event record contributes, as (table name, row)."""
    event_id = record["id"]
    yield "events", event_row(record)
    for type_ in record["types"]:
        yield "event_types", {"event_id": event_id, "type": type_}
    for position, official in enumerate(record.get("officials", [])):
        yield "event_officials", {"event_id": event_id, "position": position, **official,
                                  "person_id": official.get("person"), "other_roles": _list_or_none(official.get("other_roles"))}
    release = record.get("release")
    if release:
        yield "releases", release_row(event_id, release, sort_date(record))
        for person in release.get("people", []):
            yield "released_people", {"event_id": event_id, "person_id": person}
        for position, part in enumerate(release["categories"]):
            yield "release_categories", {"event_id": event_id, "position": position, **part,
                                         "at_least": part_min(release, part)}
    for position, change in enumerate(record.get("sanctions_changes", [])):
        yield "sanctions_changes", {"event_id": event_id, "position": position, **change}
    for position, link in enumerate(record.get("links", [])):
        yield "event_links", {"event_id": event_id, "relation": link["relation"], "other_event_id": link["event"],
                              "stated_in": event_id, "position": position}
        yield "event_links", {"event_id": link["event"], "relation": INVERSE[link["relation"]], "other_event_id": event_id,
                              "stated_in": event_id, "position": position}
    for former in record.get("former_ids", []):
        yield "event_former_ids", {"former_id": former, "event_id": event_id}
    for position, held in enumerate(record.get("prisoners_held", [])):
        yield "prisoners_held", held_row(record, position, held)
    for position, (path, file, quote) in enumerate(quotes(record)):
        text = quote_texts.get((event_id, path), quote["text"])
        yield "quotes", {"event_id": event_id, "position": position, "source_file": file,
                         "text": text, "supports": list(quote["supports"])}


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


def person_rows(person: dict[str, Any]) -> Iterator[tuple[str, Row]]:
    """The people row, every name form, and every role of one registry entry."""
    person_id, names = person["id"], person["name"]
    yield "people", {"id": person_id, **{f"name_{lang}": names.get(lang) for lang in NAME_LANGS},
                     "name_en_basis": names.get("en_basis"), "notes": person.get("notes")}
    seen: set[tuple[str, str]] = set()
    for path, lang, name, kind in name_forms(person):
        variant = person["variants"][path[1]] if path[0] == "variants" else {}
        if (lang, name) not in seen:  # a form already listed for the same language is not repeated
            seen.add((lang, name))
            yield "person_names", {"person_id": person_id, "lang": lang, "name": name, "kind": kind,
                                   "basis": variant.get("basis"), "derived_from": variant.get("from")}
    for position, role in enumerate(person.get("roles", [])):
        yield "person_roles", {"person_id": person_id, "position": position, "title": role["title"],
                               "side": role["side"], "from_date": role.get("from"), "until_date": role.get("until")}


def source_row(source: dict[str, Any]) -> Row:
    return {**source, "relays": _list_or_none(source.get("relays"))}
