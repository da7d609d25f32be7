"""`new`: start a record from a date and a slug, with every required field present and its hint from the schema.

The hints are the schema's own descriptions (each fact lives in one place), written as comments beside blank
values; the blanks are YAML nulls and empty lists, so `validate` names each one that is still to be filled.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from belarus_releases.layout import Layout

SLUG = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
_FORMS = {"day": re.compile(r"^\d{4}-\d{2}-\d{2}$"), "month": re.compile(r"^\d{4}-\d{2}$"), "year": re.compile(r"^\d{4}$")}


class ScaffoldError(Exception):
    """The record cannot be started as asked; the message says what to change."""


@dataclass(frozen=True)
class EventDate:
    """The date a contributor gives: its value and precision, and the first possible day (the id's date)."""

    value: str
    precision: str
    first_day: dt.date


def parse_date(value: str) -> EventDate:
    """'2025-09-11' (day), '2025-09' (month) or '2025' (year); the precision follows from the form."""
    precision = next((name for name, form in _FORMS.items() if form.match(value)), None)
    if precision is None:
        raise ScaffoldError(f"'{value}' is not a date; write YYYY-MM-DD, YYYY-MM or YYYY")
    parts = [int(part) for part in value.split("-")]
    try:
        first = dt.date(parts[0], parts[1] if len(parts) > 1 else 1, parts[2] if len(parts) > 2 else 1)
        if len(parts) == 2:
            calendar.monthrange(parts[0], parts[1])
    except ValueError as error:
        raise ScaffoldError(f"'{value}' is not a real date; check the month and day") from error
    return EventDate(value, precision, first)


def record_id(date: EventDate, slug: str) -> str:
    if not SLUG.match(slug):
        raise ScaffoldError(f"'{slug}' is not a slug; use lower-case letters, digits and hyphens, for example coale-visits-minsk")
    return f"{date.first_day.isoformat()}-{slug}"


def new_record(layout: Layout, date: EventDate, slug: str) -> Path:
    """Write records/ID.yml for the event and return its path; refuse an id that is already taken."""
    identifier = record_id(date, slug)
    path = layout.records / f"{identifier}.yml"
    if path.exists() or path.is_symlink():
        raise ScaffoldError(f"{layout.relative(path)} already exists; choose another slug, or edit that record")
    schema = json.loads(layout.schema("record").read_text(encoding="utf-8"))
    layout.records.mkdir(parents=True, exist_ok=True)
    with path.open("x", encoding="utf-8", newline="\n") as handle:  # "x": never overwrite, even in a race
        handle.write(record_text(schema, identifier, date))
    return path


def record_text(schema: dict[str, Any], identifier: str, date: EventDate) -> str:
    """The text of a new record: the required fields, blanks where the contributor writes, hints as comments."""
    top, defs = schema["properties"], schema["$defs"]
    citation, quote = defs["sourceCitation"]["properties"], defs["quote"]["properties"]
    day_or_first = "" if date.precision == "day" else "the first possible day; "
    lines = [
        "# yaml-language-server: $schema=../schema/record.schema.json",
        "# Fill in every blank (the comments say what goes there), delete the comments you no longer need,",
        "# then run: belarus-releases validate",
        f"id: {identifier}  # {day_or_first}never change it once published",
        "date:",
        f"  value: '{date.value}'",
        f"  precision: {date.precision}",
        f"  # basis: {_hint(defs['eventDate']['properties']['basis'])}",
        f"title:  # {_hint(top['title'])}",
        f"summary:  # {_hint(top['summary'])}",
        f"types: []  # one or more of: {', '.join(top['types']['items']['enum'])}",
        f"sources:  # {_hint(top['sources'])}",
        f"  - file:  # {_hint(citation['file'])}",
        "    quotes:",
        f"      - text:  # {_hint(quote['text'])}",
        f"        supports: [event, date]  # {_hint(quote['supports'])}",
        "# Optional fields, when the sources give them: location, officials, release, sanctions_changes, notes.",
        "# Your editor completes them from the schema; CONTRIBUTING.md shows a whole record.",
    ]
    return "\n".join(lines) + "\n"


def _hint(schema: dict[str, Any]) -> str:
    """The schema's description, to its first sentence's end, on one line."""
    text = " ".join(str(schema.get("description", "")).split())
    return text.split(". ")[0].rstrip(".")
