"""`new` and `add-source`: start a record from a date and a slug, with every required field present and its hint
from the schema; copy a document into sources/ under the naming rule and list it in registry/sources.yml.

The hints are the schema's own descriptions (each fact lives in one place), written as comments beside blank
values; the blanks are YAML nulls and empty lists, so `validate` names each one that is still to be filled.
"""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from belarus_releases.check.sources import source_text
from belarus_releases.layout import Layout, file_sha256

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
        "# Optional fields, when the sources give them: location, officials, release, sanctions_changes, links,",
        "# prisoners_held, notes.",
        "# Your editor completes them from the schema; CONTRIBUTING.md shows a whole record.",
    ]
    return "\n".join(lines) + "\n"


def _hint(schema: dict[str, Any]) -> str:
    """The schema's description, to its first sentence's end, on one line."""
    text = " ".join(str(schema.get("description", "")).split())
    return text.split(". ")[0].rstrip(".")


SOURCE_NAME = re.compile(r"^(\d{3,})_[0-9a-f]{16}\.txt$")  # 3 digits at least: 1000 follows 999


@dataclass(frozen=True)
class SourceFacts:
    """What add-source records about a document beside its file name and hash (None: not known)."""

    title: str
    language: str
    url: str | None = None
    outlet: str | None = None
    original_reporter: str | None = None
    published: str | None = None
    retrieved: str | None = None


def add_source(layout: Layout, document: Path, facts: SourceFacts) -> str:
    """Copy `document` into sources/ as NNN_<first 16 hex digits of its SHA-256>.txt, list it in
    registry/sources.yml with its facts and full SHA-256, and return the new file name.

    The document is read as strictly as `validate` reads sources, so a file that would fail is refused before
    anything is written; a document already in sources/ (same hash) is refused, naming it."""
    raw = _readable_document(document)
    digest = hashlib.sha256(raw).hexdigest()
    for existing in sorted(layout.sources.glob("*.txt")):
        if file_sha256(existing) == digest:
            raise ScaffoldError(f"sources/{existing.name} already holds this document; cite that file")
    numbers = [int(match.group(1)) for path in layout.sources.iterdir() if (match := SOURCE_NAME.match(path.name))]
    name = source_file_name(max(numbers, default=-1) + 1, digest)
    with (layout.sources / name).open("xb") as handle:
        handle.write(raw)
    ends_a_line = layout.source_registry.read_bytes().endswith(b"\n")
    with layout.source_registry.open("a", encoding="utf-8", newline="\n") as registry:
        registry.write(("" if ends_a_line else "\n") + registry_entry(name, digest, facts))
    return name


def source_file_name(number: int, digest: str) -> str:
    """The naming rule for a document under sources/: its number, then the first 16 hex digits of its SHA-256."""
    return f"{number:03d}_{digest[:16]}.txt"


def _readable_document(document: Path) -> bytes:
    if not document.is_file():
        raise ScaffoldError(f"{document} is not a file")
    raw = document.read_bytes()
    _, problems = source_text(raw, document.name)  # refused now exactly as `validate` would refuse it later
    if problems:
        raise ScaffoldError("the document cannot be added as it is:\n" + "\n".join(p.to_text() for p in problems))
    return raw


def registry_entry(name: str, digest: str, facts: SourceFacts) -> str:
    """The entry as YAML text, appended so that the registry's comments and layout stay as they are.
    Values are written as JSON strings, which YAML reads as the same text whatever they contain."""
    fields = {"file": name, "sha256": digest, **{key: value for key, value in asdict(facts).items() if value}}
    lines = [f"  - {key}: {json.dumps(value, ensure_ascii=False)}" if number == 0 else
             f"    {key}: {json.dumps(value, ensure_ascii=False)}" for number, (key, value) in enumerate(fields.items())]
    return "\n".join(lines) + "\n"
