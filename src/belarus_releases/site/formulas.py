"""CSV cells that a spreadsheet would run as formulas, made inert (CSV or formula injection).

Any visitor can write `?sql=select '=HYPERLINK(...)'` and send someone the .csv link; Excel, LibreOffice and
Google Sheets run a cell that starts with = + - @ (or tab or CR before one) as a formula. OWASP's advice: put
an apostrophe before such a text cell, which spreadsheets read as "this is text" and do not show. Numbers are
written as they are (Datasette hands them to the writer as int and float), and so is text that is a plain
number such as "-5" or "-1.5": a spreadsheet reads it as that number, never as a formula.

Datasette 0.65 writes every CSV it serves (tables, rows, queries, `_stream=on`, `_dl=1`) through one
`csv.writer` in datasette/views/base.py, so workarounds.py gives that module a `csv` whose writer does this.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def inert(cell: Any) -> Any:
    """The cell, with an apostrophe before it if it is text a spreadsheet would run as a formula."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(cell):
        return "'" + cell
    return cell


class FormulaSafeWriter:
    """A csv writer whose rows' formula cells are made inert; returns what the wrapped writer returns
    (Datasette's writes to its response, which it awaits)."""

    def __init__(self, writer: Any) -> None:
        self._writer = writer

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([inert(cell) for cell in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> Any:
        return self._writer.writerows([inert(cell) for cell in row] for row in rows)


class FormulaSafeCsv:
    """Stands in for the csv module where Datasette writes CSV: the same module, but its writer is safe."""

    def __getattr__(self, name: str) -> Any:
        return getattr(csv, name)

    @staticmethod
    def writer(file: Any, *args: Any, **kwargs: Any) -> FormulaSafeWriter:
        return FormulaSafeWriter(csv.writer(file, *args, **kwargs))


FORMULA_SAFE_CSV = FormulaSafeCsv()
