"""The rows of a table page's HTML, written in Python: the same markup as Datasette 0.65's _table.html loop.

That loop runs three template expressions per cell, each through Jinja's async machinery: for a 100-row page of
the 25-column events table, about a third of the page's rendering. The plugin's templates/_table.html is
Datasette's own with the loop replaced by this filter; tests/test_site_rows.py renders a page both ways and
compares the bytes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from datasette.utils import to_css_class
from markupsafe import Markup, escape

# The whitespace the template's loop writes around each row and each cell (Jinja keeps it as written).
_ROW_START = "\n            <tr>\n                "
_CELL_START = '\n                    <td class="col-'
_CELL_END = "</td>\n                "
_ROW_END = "\n            </tr>\n        "


def table_rows(display_rows: Iterable[Iterable[Mapping[str, Any]]]) -> Markup:
    """Every <tr> of the page's <tbody>, each cell's value escaped unless Datasette made it markup."""
    starts: dict[tuple[str, str], str] = {}  # a page has few (column, type) pairs: each cell's <td> made once
    parts: list[str] = []
    for row in display_rows:
        parts.append(_ROW_START)
        for cell in row:
            kind = (cell["column"], cell["value_type"])
            start = starts.get(kind)
            if start is None:
                start = starts[kind] = f'{_CELL_START}{escape(to_css_class(kind[0]))} type-{escape(kind[1])}">'
            parts += [start, escape(cell["value"]), _CELL_END]
        parts.append(_ROW_END)
    return Markup("".join(parts))
