"""Export, a table's CSV and JSON files made from the previous release's: its rows of unchanged records copied as
bytes, the changed records' rows written anew, all in primary-key order (export/incremental.py says when).

The previous database gives each previous row's primary key and the record it comes from, in file order: it is
loaded from the JSON files in that order (export/database.py), and the manifest's digests say it is that
release's. Rows are found in the files by their line breaks: a JSON row is one line; a CSV row ends at a line
break outside quotes (an even number of quote characters before it, as the writer doubles quotes).
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_left
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from operator import itemgetter
from pathlib import Path
from typing import Any

from belarus_releases.export.files import Values, csv_lines, json_lines, stored
from belarus_releases.export.flatten import CONTRIBUTOR
from belarus_releases.export.incremental import Doubt
from belarus_releases.tables import Table

Segment = tuple[int, int] | list[Values]
"""A run of previous rows to copy (first and last index, inclusive), or new rows to write."""


@dataclass(frozen=True)
class Spliced:
    """What splicing one table did: its rows now, and how many of the previous rows it dropped."""

    rows: int
    dropped: int


def splice_table(table: Table, previous: sqlite3.Connection, folder: Path, old: Path,
                 new_rows: list[Values], dropped: frozenset[str]) -> Spliced:
    """Write <table>.csv and <table>.json into `folder` from the previous release's in `old`."""
    keys = previous_keys(table, previous)
    kept = [index for index, key in enumerate(keys) if key[-1] not in dropped]
    segments = list(_segments(table, keys, kept, new_rows))
    csv_data, json_data = (old / f"{table.name}.csv").read_bytes(), (old / f"{table.name}.json").read_bytes()
    csv_ends, json_spans = csv_row_ends(csv_data), json_row_spans(json_data)
    if len(csv_ends) != len(keys) + 1 or len(json_spans) != len(keys):
        raise Doubt(f"{table.name}: the previous files and database do not hold the same rows")
    with (folder / f"{table.name}.csv").open("wb") as handle:
        handle.write(csv_data[:csv_ends[0]])  # the header
        for segment in segments:
            if isinstance(segment, tuple):
                handle.write(memoryview(csv_data)[csv_ends[segment[0]]:csv_ends[segment[1] + 1]])
            else:
                handle.write(csv_lines(list(stored(table, segment))).encode())
    with (folder / f"{table.name}.json").open("wb") as handle:
        parts = [memoryview(json_data)[json_spans[segment[0]][0]:json_spans[segment[1]][1]] if isinstance(segment, tuple)
                 else ",\n".join(json_lines(table, segment)).encode() for segment in segments]
        handle.write(b"[\n")
        for number, part in enumerate(parts):
            handle.write(b",\n" if number else b"")
            handle.write(part)
        handle.write(b"\n]\n" if parts else b"]\n")
    return Spliced(len(kept) + len(new_rows), len(keys) - len(kept))


def previous_keys(table: Table, previous: sqlite3.Connection) -> list[tuple[Any, ...]]:
    """Each previous row's primary key and contributing record, in file (rowid) order."""
    columns = ", ".join(f'"{name}"' for name in (*table.primary_key, CONTRIBUTOR[table.name]))
    return previous.execute(f'SELECT {columns} FROM "{table.name}" ORDER BY rowid').fetchall()


def _segments(table: Table, keys: list[tuple[Any, ...]], kept: list[int], new_rows: list[Values]) -> Iterator[Segment]:
    """The new table in primary-key order, as runs of kept previous rows and groups of new rows."""
    width = len(table.primary_key)
    kept_keys = [keys[index][:width] for index in kept]
    key_of = itemgetter(*(table.column_names.index(name) for name in table.primary_key))
    positions = [bisect_left(kept_keys, _tuple(key_of(row), width)) for row in new_rows]
    start = 0
    for position, group in _groups(positions, new_rows):
        yield from _runs(kept[start:position])
        yield group
        start = position
    yield from _runs(kept[start:])


def _tuple(key: Any, width: int) -> tuple[Any, ...]:
    return tuple(key) if width > 1 else (key,)


def _groups(positions: list[int], rows: list[Values]) -> Iterator[tuple[int, list[Values]]]:
    """New rows grouped by the kept row they come before."""
    group: list[Values] = []
    for index, (position, row) in enumerate(zip(positions, rows, strict=True)):
        group.append(row)
        if index + 1 == len(rows) or positions[index + 1] != position:
            yield position, group
            group = []


def _runs(indexes: Sequence[int]) -> Iterator[tuple[int, int]]:
    """Consecutive previous rows as (first, last) runs."""
    start = 0
    for position in range(1, len(indexes) + 1):
        if position == len(indexes) or indexes[position] != indexes[position - 1] + 1:
            if indexes:
                yield indexes[start], indexes[position - 1]
            start = position


def csv_row_ends(data: bytes) -> list[int]:
    """The offset just after each CSV row (the header first): after each line break outside quotes."""
    ends, inside, offset = [], False, 0
    for line in data.split(b"\n")[:-1]:
        offset += len(line) + 1
        if line.count(b'"') % 2:
            inside = not inside
        if not inside:
            ends.append(offset)
    if inside or offset != len(data):
        raise Doubt("a CSV file of the previous release does not end with a complete row")
    return ends


def json_row_spans(data: bytes) -> list[tuple[int, int]]:
    """Where each row of a JSON file is, without its separator: one line after "[", each but the last ending ","."""
    lines = data.split(b"\n")
    if lines[0] != b"[" or lines[-2:] != [b"]", b""]:
        raise Doubt("a JSON file of the previous release is not one row per line")
    spans, offset = [], 2
    for line in lines[1:-2]:
        spans.append((offset, offset + len(line) - line.endswith(b",")))
        offset += len(line) + 1
    return spans
