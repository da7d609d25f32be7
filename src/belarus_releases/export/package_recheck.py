"""Export, an incremental build's package checked without Frictionless: what differs from the previous release's.

An incremental build writes the previous release's datapackage.json again (the same bytes), links the tables no
changed record touches, and writes the others anew; their first rows are mostly the previous file's. The previous
release was shown valid by export/package_check.py, and its manifest records the CSV dialect each table was read
with. When the descriptor has the same bytes and each new table's head (what Frictionless reads to detect the dialect:
the first HEAD_LINES lines, and HEAD_BYTES bytes unless the encoding is declared) is the previous file's,
Frictionless would find the same descriptor valid and detect the same dialect now; it finds the header row by the
widths of the first rows, and every row of a table checked here has the header's width. A head that changed (a
changed record among a table's first 100 rows, or in a table that short) is compared as Frictionless's CSV parser
reads it, when the table's encoding is declared UTF-8 and its dialect is not: the same guess from csv.Sniffer, of
which the parser takes the delimiter, line terminator, escape and quote characters and initial spaces (without this,
a change to one of the first 100 events cost a full check, 1.4 s instead of 0.1 s at 10,000 records, and so did
every change to a dataset of fewer than 100 events, the real one). What is left is the rows: a new table's are
checked in full (export/package_check.py's `check_rows`, the same code), a linked table's only where a foreign key
joins it to a new table (its keys, or the values it refers to). Anything else (another descriptor, a head that may be
read with another dialect, no recorded dialect, any error) says "not shown": the build checks in full.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import os
from collections.abc import Mapping
from itertools import chain, islice
from pathlib import Path
from typing import Any

from belarus_releases.export.incremental import same_file
from belarus_releases.export.package_check import (
    Columns,
    Dialects,
    Key,
    NotShown,
    Target,
    check_rows,
    field_type,
    fields_of,
    references_of,
    references_resolve,
)
from belarus_releases.layout import is_plain_file_name
from belarus_releases.memory import no_garbage_collection

HEAD_BYTES = 100_000  # frictionless's settings.DEFAULT_BUFFER_SIZE: the bytes it reads to detect an undeclared encoding
HEAD_LINES = 100  # its CSV parser's SAMPLE_SIZE: the lines it gives csv.Sniffer (tests/test_package_recheck.py checks both)
HEAD_LIMIT = 1 << 22  # a head whose 100 lines are longer than this is not compared: the package is checked in full
SNIFFED_FROM = ",\t;|"  # the delimiters Frictionless's CSV parser lets csv.Sniffer choose from when none is declared


def shown_valid_again(descriptor: Path, folder: Path, previous: Path, dialects: Dialects,
                      known: Mapping[Target, set[Key]] | None = None) -> Dialects | None:
    """The dialects of the package in `folder` (the previous release's, in `previous`, recorded as `dialects`) when
    it is shown valid from what changed; None when it is not (then check it in full). `known`: key values of the
    previous release's tables known without reading them (the build's manifest lists its events' ids)."""
    try:
        with no_garbage_collection():  # as for the full check (package_check.checked_package)
            return _recheck(descriptor, folder, previous, dialects, known or {})
    except Exception:  # NotShown, an unreadable file, a descriptor not as expected: the full check will say
        return None


def _recheck(descriptor: Path, folder: Path, previous: Path, dialects: Dialects,
             known: Mapping[Target, set[Key]]) -> Dialects:
    text = descriptor.read_bytes()
    if text != (previous / descriptor.name).read_bytes():
        raise NotShown("the descriptor is not the previous release's")
    resources = json.loads(text)["resources"]
    columns = {resource["name"]: _columns(resource) for resource in resources}
    paths = {resource["name"]: _path(resource) for resource in resources}
    if sorted(dialects) != sorted(columns):
        raise NotShown("no dialect recorded for each table")
    changed = {name for name, path in paths.items() if not same_file(previous / path, folder / path)}
    by_name = {resource["name"]: resource for resource in resources}
    for name in changed:
        read_with_same_dialect(previous / paths[name], folder / paths[name], by_name[name])
    joins = [(name, target) for name, table in columns.items() for _, target in table.references
             if name in changed or target[0] in changed]  # the foreign keys whose values may have changed
    kept = _by_previous_keys(joins, changed, previous, paths)
    joins = [(name, target) for name, target in joins if name in changed or target not in kept]
    targets: dict[str, set[tuple[str, ...]]] = {}
    for _, (referred, fields) in [*joins, *((None, target) for target in kept)]:
        targets.setdefault(referred, set()).add(fields)
    keys: dict[Target, set[Key]] = {}
    wanted: list[tuple[Target, set[Key]]] = []
    for name, table in columns.items():
        if name in changed or name in targets or any(source == name for source, _ in joins):
            found = check_rows(table, str(folder / paths[name]), dialects[name], targets.get(name, set()), keys,
                               cells=name in changed)
            wanted.extend((target, values) for target, values in found if (name, target) in joins)
    references_resolve(wanted, keys)
    _no_key_went(kept, columns, previous, paths, dialects, keys, known)
    return dialects


def _by_previous_keys(joins: list[tuple[str, Target]], changed: set[str], previous: Path,
                      paths: dict[str, str]) -> set[Target]:
    """The keys of new tables that linked tables refer to, to be compared with the previous file's keys instead of
    reading the linked tables: their values resolved into the previous file, so they do now if no key went. Only
    where the previous file is the smaller read (a changed event's row: events.csv rather than quotes.csv)."""
    linked: dict[str, set[str]] = {}
    for name, (referred, _) in joins:
        if name not in changed:
            linked.setdefault(referred, set()).add(name)
    size = {name: os.path.getsize(previous / paths[name]) for name in {*linked, *chain(*linked.values())}}
    cheaper = {referred for referred, names in linked.items() if size[referred] < sum(size[name] for name in names)}
    return {target for name, target in joins if name not in changed and target[0] in cheaper}


def _no_key_went(kept: set[Target], columns: dict[str, Columns], previous: Path, paths: dict[str, str],
                 dialects: Dialects, keys: dict[Target, set[Key]], known: Mapping[Target, set[Key]]) -> None:
    """Raise NotShown unless every key value a linked table may refer to in the previous release is still there:
    reading the previous file's keys of one new table instead of every linked table that refers to it (or taking
    them from `known`)."""
    before: dict[Target, set[Key]] = {target: known[target] for target in kept if target in known}
    unknown = kept - set(before)
    for referred in sorted({name for name, _ in unknown}):
        fields = {target[1] for target in unknown if target[0] == referred}
        check_rows(columns[referred], str(previous / paths[referred]), dialects[referred], fields, before, cells=False)
    if any(not before[target] <= keys[target] for target in kept):
        raise NotShown("a key that a linked table may refer to is gone")


def _columns(resource: dict[str, Any]) -> Columns:
    """A table's columns as the descriptor (the one export/package_check.py showed valid before) declares them."""
    schema = resource["schema"]
    fields = schema["fields"]
    references = references_of(resource["name"], schema.get("foreignKeys", []))
    return Columns(resource["name"], {field["name"]: field_type(field) for field in fields},
                   frozenset(field["name"] for field in fields if field.get("constraints", {}).get("required")),
                   fields_of(schema.get("primaryKey", [])), references)


def _path(resource: dict[str, Any]) -> str:
    path = resource["path"]
    if not isinstance(path, str) or not is_plain_file_name(path):
        raise NotShown("a resource path that is not a file name")
    return path


def read_with_same_dialect(old: Path, new: Path, resource: dict[str, Any]) -> None:
    """Raise NotShown unless Frictionless would read the table `new` with the encoding and dialect it read `old`
    with. Either `new` starts with the head of `old`: what Frictionless reads to detect a CSV's dialect (its first
    HEAD_LINES lines; all of it when shorter, and then `new` is `old`) and, unless the encoding is declared, to
    detect it (the first HEAD_BYTES bytes; with an encoding declared, only a byte-order mark counts, within the
    lines). Lines end at a line feed at the latest (a carriage return can end one sooner, never later). Or the
    table's encoding is declared UTF-8 and its dialect is not, and both heads give the same `dialect_guess`."""
    head, start = _heads(old, new)
    end = _head_end(head, buffer=not resource.get("encoding"))
    if start[:end] == head[:end] and (end < len(head) or len(start) == len(head)):
        return
    if not (resource.get("encoding") == "utf-8" and resource.get("format") == "csv" and "dialect" not in resource):
        raise NotShown("the head of the table is not the previous file's")
    if dialect_guess(head) != dialect_guess(start):
        raise NotShown("the head of the table may be read with another dialect")


def dialect_guess(head: bytes) -> tuple[Any, ...]:
    """What Frictionless's CSV parser takes of the guess csv.Sniffer makes from the first HEAD_LINES lines of a UTF-8
    table starting with `head` (split as its text stream splits them, at CR and LF). The header row is not compared:
    check_rows reads it with the dialect, and it must be the field names."""
    if head.startswith(codecs.BOM_UTF8):
        raise NotShown("a byte-order mark")  # Frictionless then reads the table as UTF-8-SIG: not guessed here
    lines = islice(io.TextIOWrapper(io.BytesIO(head[:_head_end(head, buffer=False)]), "utf-8", newline=""), HEAD_LINES)
    try:
        guess: Any = csv.Sniffer().sniff("".join(lines), SNIFFED_FROM)
    except csv.Error:
        guess = csv.excel  # as the parser does
    quote = '"' if guess.quotechar == "'" else guess.quotechar  # the parser's own correction
    return guess.delimiter, guess.lineterminator, guess.escapechar, quote, guess.skipinitialspace


def _heads(old: Path, new: Path) -> tuple[bytes, bytes]:
    with old.open("rb") as one, new.open("rb") as other:
        return one.read(HEAD_LIMIT), other.read(HEAD_LIMIT)


def _head_end(head: bytes, *, buffer: bool) -> int:
    """Where the head ends: after its first HEAD_LINES lines (all of it when shorter), or, with `buffer`, after
    HEAD_BYTES bytes if that is further."""
    end = 0
    for _ in range(HEAD_LINES):
        found = head.find(b"\n", end)
        if found < 0:
            if len(head) == HEAD_LIMIT:
                raise NotShown("the head of the table is too long to compare")
            end = len(head)
            break
        end = found + 1
    return max(end, min(HEAD_BYTES, len(head))) if buffer else end
