"""Export, the SQLite database that Datasette serves: belarus-releases.db in each release (build/current/belarus-releases.db).

Every table is created from its definition in tables.py before any row goes in, as a STRICT table with
explicit column types, so type detection never runs ("007" stays TEXT "007"). Primary keys, foreign keys,
indexes on the columns people facet and sort on, and FTS5 full-text search come from the same definitions.
Rows go in sorted by primary key, in one transaction, so the same records always give the same `.dump`.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlite_utils

from belarus_releases.export.files import json_array
from belarus_releases.tables import TABLES, Table

SQLITE_TYPES = {"string": str, "integer": int, "date": str, "array": str}


def write_sqlite(tables: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """Create the database at `path` (which must not exist yet) holding `tables`."""
    if path.exists():
        raise FileExistsError(f"{path} already exists; the database is always written to a new file")
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA journal_mode = MEMORY")  # a fresh staging file: no need for a journal on disk
        connection.execute("PRAGMA synchronous = OFF")  # the whole file is fsynced by the caller before it is moved
        db = sqlite_utils.Database(connection)
        with connection:
            for table in TABLES:
                _create(db, table)
                _insert(connection, table, tables.get(table.name, []))
        for table in TABLES:
            _index(db, table)
        connection.execute("PRAGMA journal_mode = DELETE")
    finally:
        connection.close()
    return path


def _create(db: sqlite_utils.Database, table: Table) -> None:
    db.table(table.name).create(
        {column.name: SQLITE_TYPES[column.type] for column in table.columns},
        pk=table.primary_key[0] if len(table.primary_key) == 1 else table.primary_key,
        foreign_keys=[(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys],
        not_null=[column.name for column in table.columns if column.required],
        strict=True,
    )


def _insert(connection: sqlite3.Connection, table: Table, rows: list[dict[str, Any]]) -> None:
    """Insert with one prepared statement (sqlite-utils' insert_all is several times slower for 100k rows)."""
    names = ", ".join(f'"{name}"' for name in table.column_names)
    marks = ", ".join("?" * len(table.columns))
    connection.executemany(f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})', _stored(table, rows))


def _stored(table: Table, rows: list[dict[str, Any]]) -> Iterator[tuple[Any, ...]]:
    """Each row as a tuple in column order, lists as JSON text."""
    columns = [(column.name, column.type == "array") for column in table.columns]
    for row in rows:
        yield tuple(json_array(row[name]) if is_array and row[name] is not None else row[name] for name, is_array in columns)


def _index(db: sqlite_utils.Database, table: Table) -> None:
    for columns in table.indexes:
        db.table(table.name).create_index(columns, index_name=f"idx_{table.name}_{'_'.join(columns)}")
    if table.search:
        db.table(table.name).enable_fts(table.search, fts_version="FTS5", create_triggers=False)


@contextmanager
def read_only(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection that cannot change the database at `path`, closed on leaving the block."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        yield connection
    finally:
        connection.close()


def foreign_key_problems(path: Path) -> list[str]:
    """What `PRAGMA foreign_key_check` finds, one line per row whose reference does not resolve."""
    with read_only(path) as connection:
        found = connection.execute("PRAGMA foreign_key_check").fetchall()
    return [f"{table} row {rowid}: no {parent} for its foreign key #{key}" for table, rowid, parent, key in found]


def statement_problems(path: Path, statements: dict[str, str]) -> dict[str, str]:
    """For each named SQL statement that SQLite cannot compile against the database, the error (nothing is run)."""
    problems = {}
    with read_only(path) as connection:
        for name, sql in statements.items():
            parameters = dict.fromkeys(re.findall(r"(?<!:):([A-Za-z_]\w*)", sql))
            try:
                connection.execute(f"EXPLAIN {sql}", parameters).fetchall()
            except sqlite3.Error as error:
                problems[name] = str(error)
    return problems
