"""Bounds on what one query can make SQLite build and the site hold, set on every connection Datasette opens
(the plugin's prepare_connection hook), so visitor SQL cannot take the server's memory.

Datasette's time limit is a progress handler, which SQLite calls only between virtual-machine steps; one call
of `randomblob(400000000)` or `hex()` of it is a single step, so it ran for seconds and took gigabytes. The
length limit makes such a call fail at once ("string or blob too big"). It does not bound a whole result
(rows x columns x length), so the rows Python fetches are counted too, per query, and the query is stopped
once they pass RESULT_BYTES.

Not used: sqlite3_hard_heap_limit64. Python's sqlite3 does not expose it; reaching it through ctypes means
guessing which libsqlite3 the _sqlite3 module was linked with, and the limit is for the whole process, not
one query, and does not count the rows Python has already copied out of SQLite.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

RowFactory = Callable[[sqlite3.Cursor, tuple[Any, ...]], Any]

# The longest value a valid record can produce is a 4,000-character text field (the schemas' largest
# maxLength), at most 16,000 bytes of UTF-8; the longest in today's database is an FTS index block of about
# 4 KB. 128 KiB is 8 times the first. It also bounds the quadratic string functions, which run as one
# step too: instr() or replace() on two 1 MB strings took 16 s, on 128 KiB about 0.3 s. Not bounded by any
# limit: printf('%.*c', N, 'x') loops N times before it gives up (about 27 s for N = 2e9, in SQLite 3.40).
MAX_LENGTH = 128 * 1024
LIMITS = {
    sqlite3.SQLITE_LIMIT_LENGTH: MAX_LENGTH,
    # The longest canned query is 736 characters; 16 KiB is room for any query typed into the SQL box, and
    # caps what SQLite parses and compiles for a generated one (about 50 KB still fits in a URL).
    sqlite3.SQLITE_LIMIT_SQL_LENGTH: 16 * 1024,
    # 81 columns in all the tables together: `select *` joining every table still fits, twice over.
    sqlite3.SQLITE_LIMIT_COLUMN: 200,
}
# What one query may hand to Python: a full page (1,000 rows) of the widest table is under 1 MB today.
RESULT_BYTES = 16 * 1024 * 1024


class TooBig(sqlite3.OperationalError):
    """SQLite refused to make a value over the length limit ("string or blob too big", a DataError).

    An OperationalError, so that Datasette answers it as it does bad SQL, 400 with the message, on every
    page; workarounds.py turns the DataError into this where Datasette runs queries.
    """


class ResultTooLarge(sqlite3.OperationalError):
    """A query's rows add up to more than RESULT_BYTES.

    An OperationalError, so that Datasette answers it as it does bad SQL: 400, with the message.
    """


def limit_connection(conn: sqlite3.Connection) -> None:
    """Set LIMITS on `conn` and stop any query whose fetched rows pass RESULT_BYTES."""
    for limit, value in LIMITS.items():
        conn.setlimit(limit, value)
    conn.row_factory = counted_rows(conn.row_factory, RESULT_BYTES)


def counted_rows(factory: RowFactory | None, budget: int) -> RowFactory:
    """A row factory that makes rows with `factory` (Datasette sets sqlite3.Row) and raises ResultTooLarge once
    one cursor's rows pass `budget` bytes. Datasette makes a new cursor for every query."""
    spent: WeakKeyDictionary[sqlite3.Cursor, int] = WeakKeyDictionary()

    def make_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Any:
        total = spent.get(cursor, 0) + _size(row)
        if total > budget:
            raise ResultTooLarge(f"the query's results are over {budget // (1024 * 1024)} MB; "
                                 "select fewer rows or columns, or shorter values")
        spent[cursor] = total
        return factory(cursor, row) if factory is not None else row

    return make_row


def _size(row: tuple[Any, ...]) -> int:
    # Text counted in characters: close enough, and Python holds at least that many bytes for it.
    return sum(len(value) if isinstance(value, (str, bytes)) else 8 for value in row)
