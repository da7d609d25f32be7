"""The record model shared by check and export: walks over what records and registry entries list (each item
with its JSON path), and what a record's date means. Written once for every stage.

The rules (check.rules, crossref, provenance) need the paths to locate problems; flatten needs the items in order.
They take data that passed the schema, so required keys are read directly.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterator
from typing import Any, NamedTuple, cast

from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.problems import JsonPath

NAME_LANGS = ("en", "ru", "uk", "be")


def entries(registry: Loaded, key: str) -> list[dict[str, Any]]:
    """The entries of a registry file (`people` or `sources`); none when it is missing or invalid (data None)."""
    data = registry.data or {}
    return [entry for entry in data.get(key, []) if isinstance(entry, dict)]


class References(NamedTuple):
    """What the rules across records read of a record: its id and former ids, the ids it links to, and the people
    and source documents it names, each with its path (the sources' paths are ("sources", N, "file"))."""

    id: str
    former_ids: tuple[str, ...]
    links: tuple[str, ...]
    people: tuple[tuple[str, JsonPath], ...]
    sources: tuple[str, ...]


def references(loaded: Loaded) -> References:
    """The record's references: kept with a record from the check's cache (whose data is then not decoded), else
    read from its data."""
    if loaded.references is not None:
        return cast(References, loaded.references)
    return data_references(loaded.data)


def record_id(loaded: Loaded) -> str:
    """A record's id, from its references when it has them (its data may be undecoded), else from its data (not
    from `references`, which would make all of a record checked now's references for its id)."""
    return cast(str, loaded.references.id if loaded.references is not None else loaded.data["id"])


def cited_files(loaded: Loaded) -> tuple[str, ...]:
    """The source files a record cites, in order: from its references when it has them, else from its data (as
    record_id, without making the rest)."""
    return cast(tuple[str, ...], loaded.references.sources if loaded.references is not None else _cited(loaded.data))


def data_references(record: dict[str, Any]) -> References:
    return References(record["id"], tuple(record.get("former_ids", ())),
                      tuple(link["event"] for link in record.get("links", ())), tuple(person_references(record)),
                      _cited(record))


def _cited(record: dict[str, Any]) -> tuple[str, ...]:
    return tuple(source["file"] for source in record["sources"])


def person_references(record: dict[str, Any]) -> Iterator[tuple[str, JsonPath]]:
    for number, official in enumerate(record.get("officials", [])):
        if "person" in official:  # an official the sources do not name is not in the registry
            yield official["person"], ("officials", number, "person")
    for number, person in enumerate(record.get("release", {}).get("people", [])):
        yield person, ("release", "people", number)


def source_references(refs: References) -> Iterator[tuple[str, JsonPath]]:
    for number, file in enumerate(refs.sources):
        yield file, ("sources", number, "file")


def quotes(record: dict[str, Any]) -> Iterator[tuple[JsonPath, str, dict[str, Any]]]:
    """Every quote of a record in order, with its path and the source file it quotes."""
    for s, source in enumerate(record["sources"]):
        for q, quote in enumerate(source["quotes"]):
            yield ("sources", s, "quotes", q), source["file"], quote


def name_forms(person: dict[str, Any]) -> Iterator[tuple[JsonPath, str, str, str | None]]:
    """Display names (in NAME_LANGS order), then variants: path, language, the name as written, and its kind."""
    for lang in NAME_LANGS:
        if person["name"].get(lang):
            yield ("name", lang), lang, person["name"][lang], "display"
    for number, variant in enumerate(person.get("variants", [])):
        yield ("variants", number, "text"), variant["lang"], variant["text"], variant.get("kind")


def role_evidence(person: dict[str, Any]) -> Iterator[tuple[JsonPath, dict[str, Any]]]:
    """Every evidence quote of a person's roles, with its path inside the person's entry."""
    for r, role in enumerate(person.get("roles", [])):
        for e, evidence in enumerate(role.get("evidence", [])):
            yield ("roles", r, "evidence", e), evidence


def date_span(date: dict[str, Any]) -> tuple[dt.date, dt.date]:
    """The first and last day the date can be, from its value and its earliest/latest bounds."""
    low, high = dt.date.min, dt.date.max
    value = date.get("value")
    if value:
        parts = [int(p) for p in value.split("-")]
        year = parts[0]
        month_low, month_high = (parts[1], parts[1]) if len(parts) > 1 else (1, 12)
        day_low = parts[2] if len(parts) > 2 else 1
        day_high = parts[2] if len(parts) > 2 else calendar.monthrange(year, month_high)[1]
        low, high = dt.date(year, month_low, day_low), dt.date(year, month_high, day_high)
    if date.get("earliest"):
        low = max(low, dt.date.fromisoformat(date["earliest"]))
    if date.get("latest"):
        high = min(high, dt.date.fromisoformat(date["latest"]))
    return low, high
