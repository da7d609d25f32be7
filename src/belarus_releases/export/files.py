"""Export, the tables as files: <table>.csv and <table>.json in each release (build/current/events.csv).

CSV: UTF-8 without BOM, a header row, `\\n` line endings, RFC 4180 quoting (a field is quoted when it holds
a comma, a double quote or a line break; quotes are doubled), an empty cell for a missing value, lists as
JSON arrays. Whole numbers are written as digits; text is written as it is, so "007" stays "007" for any
reader that is told the column is text (datapackage.json says so).

JSON: an array of objects, one per line, with sorted keys, null for a missing value, real arrays for lists, not ASCII-escaped.

Formula-like text is refused by validation (check/characters.py), so nothing is escaped for spreadsheets here.

Python's csv module is the reference for CSV and `json.dumps` for JSON; the writers here render the same bytes
several times faster (tests/test_write_tables.py compares them on hostile text), and fall back to the csv
module if this Python's csv module quotes differently from what `_SPECIAL` says (checked once, at import).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from json import encoder as json_encoder
from operator import itemgetter
from pathlib import Path
from typing import Any

from belarus_releases.tables import Table

Values = tuple[Any, ...]
CHUNK = 4096  # rows per write: big enough to be fast, small enough that a table is never held as one string


def csv_cell(value: Any, type_: str) -> str:
    """The text of one CSV cell."""
    if value is None:
        return ""
    if type_ == "array":
        return json_array(value)
    return str(value)  # whole numbers as digits; a value of the wrong type is left for Frictionless to report


def stored(table: Table, rows: Iterable[Values]) -> Iterator[Values]:
    """Each row with its lists as JSON text: how CSV and SQLite hold them."""
    arrays = [index for index, column in enumerate(table.columns) if column.type == "array"]
    if not arrays:
        yield from rows
        return
    for row in rows:
        cells = list(row)
        for index in arrays:
            if cells[index] is not None:
                cells[index] = json_array(cells[index])
        yield tuple(cells)


def _reference_csv(rows: Iterable[Sequence[Any]]) -> str:
    """The csv module's text for rows of cells (None as an empty cell)."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, strict=True).writerows(rows)
    return buffer.getvalue()


_SPECIAL = (",", '"', "\n")  # what makes the csv module quote a field, for this dialect


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if value.__class__ is str else str(value)
    if "," in text or '"' in text or "\n" in text:
        return '"' + text.replace('"', '""') + '"'
    return text


def _quoting_agrees() -> bool:
    """Whether this Python's csv module quotes exactly the fields `_cell` quotes (it changes between versions)."""
    probes = ["", " ", "a b", "x\r", "\r\n", "\t", '"', "a,b", "\n", "\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029", "=1", "'", 7, None]
    special = [chr(code) for code in range(128) if _reference_csv([[f"a{chr(code)}b", "x"]]) != f"a{chr(code)}b,x\n"]
    rows = [[probe, "x"] for probe in probes] + [["x", probe] for probe in probes] + [[None, None], ["", ""]]
    return special == sorted(_SPECIAL) and _reference_csv(rows) == "".join(",".join(map(_cell, row)) + "\n" for row in rows)


FAST_CSV = _quoting_agrees()


def csv_lines(rows: Sequence[Values]) -> str:
    """The CSV text of rows already in their stored form (lists as JSON text)."""
    if not FAST_CSV:
        return _reference_csv(rows)
    return "".join([",".join(map(_cell, row)) + "\n" for row in rows])


def write_csv(table: Table, rows: list[dict[str, Any]], path: Path) -> Path:
    return write_csv_values(table, [tuple(row[name] for name in table.column_names) for row in rows], path)


def write_csv_values(table: Table, rows: Sequence[Values], path: Path) -> Path:
    """<table>.csv from rows as values in column order."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(map(_cell, table.column_names)) + "\n")
        for start in range(0, len(rows), CHUNK):
            handle.write(csv_lines(list(stored(table, rows[start:start + CHUNK]))))
    return path


def _no_default(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def _encoder(sort_keys: bool, separators: tuple[str, str] = (", ", ": ")) -> Any:
    """json.dumps(value, ensure_ascii=False, sort_keys=True, separators=separators) without making an encoder
    for every value: the C encoder that json.dumps makes for each call, made once."""
    make = getattr(json_encoder, "c_make_encoder", None)  # CPython's C accelerator, not in the type stubs
    if make is None:  # a Python without it: json.dumps, the reference
        return lambda value, _: [json.dumps(value, ensure_ascii=False, sort_keys=True, separators=separators)]
    item, key = separators
    return make(None, _no_default, json_encoder.encode_basestring, None, key, item, sort_keys, False, True)


_ENCODE, _ENCODE_SORTED, _ENCODE_COMPACT = _encoder(True), _encoder(False), _encoder(False, (",", ":"))


def json_array(values: list[Any]) -> str:
    """A list as compact JSON text, the same in CSV and SQLite: json.dumps(values, ensure_ascii=False,
    separators=(",", ":")), with one encoder for every list."""
    return "".join(_ENCODE_COMPACT(values, 0))


def json_line(row: dict[str, Any]) -> str:
    """One row as the JSON files write it."""
    return "".join(_ENCODE(row, 0))


def json_lines(table: Table, rows: Iterable[Values]) -> Iterator[str]:
    """The JSON lines of rows as values, each made a dict with its keys already in sorted order (the values taken in
    that order by one itemgetter call, not a comprehension per row: writing 10,000 records' JSON 14 % quicker)."""
    names = table.column_names
    order = sorted(range(len(names)), key=names.__getitem__)
    keys = [names[index] for index in order]
    in_order: Callable[[Values], Sequence[Any]] = itemgetter(*order) if len(order) > 1 else lambda row: (row[order[0]],)
    for row in rows:
        yield "".join(_ENCODE_SORTED(dict(zip(keys, in_order(row), strict=True)), 0))


def write_json(rows: list[dict[str, Any]], path: Path) -> Path:
    """An array with one object per line: valid JSON that diffs line by line (and is fast to write)."""
    return _write_json_lines((json_line(row) for row in rows), path)


def write_json_values(table: Table, rows: Sequence[Values], path: Path) -> Path:
    return _write_json_lines(json_lines(table, rows), path)


def _write_json_lines(lines: Iterable[str], path: Path) -> Path:
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("[\n")
        separator = ""
        chunk: list[str] = []
        for line in lines:
            chunk.append(separator + line)
            separator = ",\n"
            if len(chunk) >= CHUNK:
                handle.write("".join(chunk))
                chunk.clear()
        handle.write("".join(chunk))
        handle.write("\n]\n" if separator else "]\n")
    return path


def write_table_files(table: Table, rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Write <folder>/<table>.csv and <folder>/<table>.json; return both paths."""
    return [write_csv(table, rows, folder / f"{table.name}.csv"), write_json(rows, folder / f"{table.name}.json")]


def write_table_values(table: Table, rows: Sequence[Values], folder: Path) -> list[Path]:
    """The same two files from rows as values in column order."""
    return [write_csv_values(table, rows, folder / f"{table.name}.csv"),
            write_json_values(table, rows, folder / f"{table.name}.json")]
