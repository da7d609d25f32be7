"""Export, a table's CSV and JSON files made from the previous release's: its rows of unchanged records copied as
bytes, the changed records' rows written anew, all in primary-key order (export/incremental.py says when).

The previous database gives each previous row's primary key and the record it comes from, in file order: it is
loaded from the JSON files in that order (export/database.py), and the manifest's digests say it is that
release's. Rows are found in the files by their line breaks: a JSON row is one line; a CSV row ends at a line
break outside quotes (an even number of quote characters before it, as the writer doubles quotes).
"""

from __future__ import annotations

import filecmp
import os
import sqlite3
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from belarus_releases.export.downloads import link_or_copy
from belarus_releases.export.files import Values, csv_lines, json_lines, stored
from belarus_releases.export.incremental import Doubt
from belarus_releases.export.sqlite import column_list, marks
from belarus_releases.tables import Table

BLOCK = 1 << 22  # bytes of a previous file read at once
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
    count, dropped_at = _previous_rows(table, previous, dropped)
    segments = list(_segments(_positions(table, previous, new_rows), count, dropped_at, new_rows))
    csv_ends, json_spans = csv_row_ends(old / f"{table.name}.csv"), json_row_spans(old / f"{table.name}.json")
    if len(csv_ends) != count + 1 or len(json_spans) != count:
        raise Doubt(f"{table.name}: the previous files and database do not hold the same rows")
    with (old / f"{table.name}.csv").open("rb") as source, (folder / f"{table.name}.csv").open("wb") as target:
        _copy(source, target, 0, csv_ends[0])  # the header
        for segment in segments:
            if isinstance(segment, tuple):
                _copy(source, target, csv_ends[segment[0]], csv_ends[segment[1] + 1])
            else:
                target.write(csv_lines(list(stored(table, segment))).encode())
    with (old / f"{table.name}.json").open("rb") as source, (folder / f"{table.name}.json").open("wb") as target:
        target.write(b"[\n")
        for number, segment in enumerate(segments):
            target.write(b",\n" if number else b"")
            if isinstance(segment, tuple):
                _copy(source, target, json_spans[segment[0]][0], json_spans[segment[1]][1])
            else:
                target.write(",\n".join(json_lines(table, segment)).encode())
        target.write(b"\n]\n" if segments else b"]\n")
    for extension in ("csv", "json"):
        _linked_if_same(old / f"{table.name}.{extension}", folder / f"{table.name}.{extension}")
    return Spliced(count - len(dropped_at) + len(new_rows), len(dropped_at))


def rows_differ(table: Table, previous: sqlite3.Connection, rows: list[Values], records: frozenset[str]) -> bool:
    """Whether the changed `records` now give the table other `rows` than their rows in the previous database (in
    any order: the table is in primary-key order). When they do not, its files, Parquet file and rows are the
    previous release's: nothing to splice, recheck or rewrite (a changed summary touches events alone). Values
    are compared with their types, so that True is not taken for 1."""
    if not records:
        return bool(rows)
    query = (f'SELECT {column_list(table.column_names)} FROM "{table.name}" WHERE "{table.contributor}" IN '
             f'({marks(len(records))})')
    before = previous.execute(query, sorted(records)).fetchall()
    return len(before) != len(rows) or Counter(map(_typed, before)) != Counter(map(_typed, stored(table, rows)))


def _typed(row: Values) -> tuple[tuple[type, Any], ...]:
    return tuple((type(value), value) for value in row)


def _linked_if_same(old: Path, new: Path) -> None:
    """A file spliced back to the previous one's bytes (a changed record whose rows here did not change) is made a
    link to it, so that what follows (the package recheck, the zip, the manifest) knows it unchanged."""
    if os.path.getsize(old) == os.path.getsize(new) and filecmp.cmp(old, new, shallow=False):
        os.unlink(new)
        link_or_copy(old, new)


def _copy(source: BinaryIO, target: BinaryIO, start: int, end: int) -> None:
    """Bytes start..end of `source` appended to `target`: by the kernel where it can (no copy through Python)."""
    target.flush()
    while start < end:
        try:
            copied = os.copy_file_range(source.fileno(), target.fileno(), end - start, start)
        except OSError:  # not between these files (another filesystem, an old kernel): through a buffer
            copied = 0
        if not copied:
            source.seek(start)
            copied = target.write(source.read(min(end - start, BLOCK)))
            target.flush()
        start += copied
    target.seek(0, os.SEEK_END)


def _previous_rows(table: Table, previous: sqlite3.Connection, dropped: frozenset[str]) -> tuple[int, list[int]]:
    """How many rows the previous table has, and where (in file, that is rowid, order) the dropped records' are.
    Asked of SQLite, which counts in C: each previous row's key fetched as a Python tuple cost more than the rest
    of the splicing."""
    count = int(previous.execute(f'SELECT count(*) FROM "{table.name}"').fetchone()[0])
    if not dropped:
        return count, []
    found = f'SELECT rowid FROM "{table.name}" WHERE "{table.contributor}" IN ({marks(len(dropped))}) ORDER BY rowid'
    before = f'SELECT count(*) FROM "{table.name}" WHERE rowid < ?'  # a row's index in the file
    return count, [int(previous.execute(before, row).fetchone()[0])
                   for row in previous.execute(found, sorted(dropped)).fetchall()]


def _positions(table: Table, previous: sqlite3.Connection, new_rows: list[Values]) -> list[int]:
    """For each new row, how many previous rows have a smaller primary key: where it goes among them (the files are
    in primary-key order). SQLite compares row values as Python compares tuples of these (text by code point)."""
    query = (f'SELECT count(*) FROM "{table.name}" WHERE ({column_list(table.primary_key)}) '
             f'< ({marks(len(table.primary_key))})')
    positions = table.key_positions
    return [int(previous.execute(query, [row[position] for position in positions]).fetchone()[0]) for row in new_rows]


def _segments(positions: list[int], count: int, dropped_at: list[int], new_rows: list[Values]) -> Iterator[Segment]:
    """The new table in primary-key order, as runs of kept previous rows and groups of new rows."""
    start = 0
    for position, group in _groups(positions, new_rows):
        yield from _kept_runs(start, position, dropped_at)
        yield group
        start = position
    yield from _kept_runs(start, count, dropped_at)


def _groups(positions: list[int], rows: list[Values]) -> Iterator[tuple[int, list[Values]]]:
    """New rows grouped by the previous row they come before."""
    group: list[Values] = []
    for index, (position, row) in enumerate(zip(positions, rows, strict=True)):
        group.append(row)
        if index + 1 == len(rows) or positions[index + 1] != position:
            yield position, group
            group = []


def _kept_runs(start: int, stop: int, dropped_at: list[int]) -> Iterator[tuple[int, int]]:
    """Previous rows start..stop-1, less the dropped ones, as (first, last) runs."""
    for index in dropped_at[bisect_left(dropped_at, start):bisect_left(dropped_at, stop)]:
        if start < index:
            yield start, index - 1
        start = index + 1
    if start < stop:
        yield start, stop - 1


def _lines(path: Path) -> Iterator[bytes]:
    """The file's lines, each with its line feed (the last one without, if the file does not end with one), read
    a block at a time: a table's file is never held whole."""
    with path.open("rb") as handle:
        rest = b""
        while block := handle.read(BLOCK):
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line + b"\n"
        if rest:
            yield rest


def csv_row_ends(path: Path) -> list[int]:
    """The offset just after each CSV row (the header first): after each line break outside quotes."""
    ends, inside, offset, line = [], False, 0, b""
    for line in _lines(path):
        offset += len(line)
        if line.count(b'"') % 2:
            inside = not inside
        if not inside:
            ends.append(offset)
    if inside or not line.endswith(b"\n"):
        raise Doubt("a CSV file of the previous release does not end with a complete row")
    return ends


def json_row_spans(path: Path) -> list[tuple[int, int]]:
    """Where each row of a JSON file is, without its separator: one line after "[", each but the last ending ","."""
    lines = _lines(path)
    if next(lines, b"") != b"[\n":
        raise Doubt("a JSON file of the previous release is not one row per line")
    spans, offset, last = [], 2, b""
    for line in lines:
        spans.append((offset, offset + len(line) - 1 - line.endswith(b",\n")))
        offset += len(line)
        last = line
    if last != b"]\n":
        raise Doubt("a JSON file of the previous release is not one row per line")
    return spans[:-1]
