"""Export, the tables as files: <table>.csv and <table>.json in each release (build/current/events.csv).

CSV: UTF-8 without BOM, a header row, `\\n` line endings, RFC 4180 quoting (a field is quoted when it holds
a comma, a double quote or a line break; quotes are doubled), an empty cell for a missing value, lists as
JSON arrays. Whole numbers are written as digits; text is written as it is, so "007" stays "007" for any
reader that is told the column is text (datapackage.json says so).

JSON: an array of objects, one per line, with sorted keys, null for a missing value, real arrays for lists, not ASCII-escaped.

Formula-like text is refused by validation (check/characters.py), so nothing is escaped for spreadsheets here.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from belarus_releases.tables import Table


def csv_cell(value: Any, type_: str) -> str:
    """The text of one CSV cell."""
    if value is None:
        return ""
    if type_ == "array":
        return json_array(value)
    return str(value)  # whole numbers as digits; a value of the wrong type is left for Frictionless to report


def json_array(values: list[Any]) -> str:
    """A list as compact JSON text, the same in CSV and SQLite."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))


def write_csv(table: Table, rows: list[dict[str, Any]], path: Path) -> Path:
    types = [(column.name, column.type) for column in table.columns]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, strict=True)
        writer.writerow(table.column_names)
        writer.writerows([csv_cell(row[name], type_) for name, type_ in types] for row in rows)
    return path


def write_json(rows: list[dict[str, Any]], path: Path) -> Path:
    """An array with one object per line: valid JSON that diffs line by line (and is fast to write)."""
    with path.open("w", encoding="utf-8", newline="\n") as handle:
        handle.write("[\n")
        handle.write(",\n".join(json.dumps(row, ensure_ascii=False, sort_keys=True) for row in rows))
        handle.write("\n]\n" if rows else "]\n")
    return path


def write_table_files(table: Table, rows: list[dict[str, Any]], folder: Path) -> list[Path]:
    """Write <folder>/<table>.csv and <folder>/<table>.json; return both paths."""
    return [write_csv(table, rows, folder / f"{table.name}.csv"), write_json(rows, folder / f"{table.name}.json")]
