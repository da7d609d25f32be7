"""Export, the SQLite database that Datasette serves: belarus-releases.db in each release (build/current/belarus-releases.db).

Every table is created from its definition in tables.py before any row goes in, as a STRICT table with
explicit column types, so type detection never runs ("007" stays TEXT "007"). Primary keys, foreign keys,
indexes on the columns people facet and sort on, and FTS5 full-text search come from the same definitions.

Every table is created first and filled in the same order, each in primary-key order, whichever way its rows
come, so the same rows always give the same bytes (and each table's rowids follow its primary key): a full build
inserts its own rows as they come (already sorted); a build that reuses the previous release (export/incremental.py)
fills each table part after part, in primary-key order: that release's rows in rowid ranges, and between them the
changed records' rows, from a scratch database of those only (untyped columns, so each value stays as given), both
attached while the database is made. A full-text index is made apart, in memory, and its tables copied in; the
rebuild copies instead the previous release's for a table whose rows are all as they were (NewDatabase).
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from belarus_releases.export.database_job import ORDER
from belarus_releases.export.files import Values, stored
from belarus_releases.tables import TABLES, Table

if TYPE_CHECKING:
    import sqlite_utils

SQLITE_TYPES = {"string": str, "integer": int, "date": str, "array": str}
SCRATCH = "scratch"  # the name the scratch database of rows is attached under
SEARCH = "search"  # an empty database in memory, attached while the database is made: full-text indexes are made there
# an FTS5 index's own tables, each with its key: what makes the index, copied in key order
SEARCH_TABLES = (("data", "id"), ("idx", "segid, term"), ("docsize", "id"), ("config", "k"))
Part = tuple[str, tuple[Any, ...]] | list[Values]
"""Rows of a table being filled: a SELECT with its parameters, or rows as stored (lists as JSON text)."""


def write_sqlite(tables: dict[str, list[dict[str, Any]]], path: Path) -> Path:
    """Create the database at `path` (which must not exist yet) holding `tables` (rows as dicts, in any order), as
    a full build makes it."""
    with NewDatabase(path) as database:
        for table in ORDER:
            rows = [tuple(row[name] for name in table.column_names) for row in tables.get(table.name, [])]
            database.add_rows(table, sorted(rows, key=table.values_key))
    return path


class ScratchRows:
    """A scratch database of rows: a table for each, with untyped columns in the table's order and no
    constraints, so that inserting is fast and stores each value exactly as given (lists as JSON text)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path)
        self.connection.execute("PRAGMA journal_mode = OFF")  # thrown away after the build: nothing to recover
        self.connection.execute("PRAGMA synchronous = OFF")

    def __enter__(self) -> ScratchRows:
        return self

    def __exit__(self, *_: object) -> None:
        self.connection.commit()
        self.connection.close()

    def add(self, table: Table, rows: Iterable[Values], name: str | None = None) -> None:
        """Put `rows` (values in column order) in a table named `name` (the table's name by default)."""
        self.connection.execute(f'CREATE TABLE "{name or table.name}" ({column_list(table.column_names)})')
        self.connection.executemany(f'INSERT INTO "{name or table.name}" VALUES ({marks(len(table.columns))})',
                                    stored(table, rows))

    def add_ids(self, name: str, ids: Iterable[str]) -> None:
        self.connection.execute(f'CREATE TABLE "{name}" (id TEXT PRIMARY KEY)')
        self.connection.executemany(f'INSERT INTO "{name}" VALUES (?)', ((value,) for value in ids))


class NewDatabase:
    """The database being made at `path` (which must not exist yet, unless it is continued), in one way whichever
    way its rows come, so that the same rows always give the same bytes: every table is created first (in TABLES
    order), then each is filled in the order it is given, in primary-key order, by the build's own rows
    (`add_rows`: a full build, as the rows arrive) or part after part (`add_selected`: from a previous release's
    database), each given its indexes and full-text search before the next is filled (`index`: a full build's
    database process then makes them while the build still writes the next tables' files; at 100,000 records, 3.6 s
    no longer left for after the last).
    `attach`: databases the SELECTs read, read-only, by alias. A table's full-text index is made in a database in
    memory and its rows copied in, or copied from the database whose alias `search_from` gives for the table (the
    previous release's, for a table whose rows are all as they were there: the same rows give the same index, so
    it need not be made again, which took 0.25 s of quotes at 10,000 records). As a context manager, it is finished
    when the block ends, and closed unfinished when the block raises (the file is then never published)."""

    def __init__(self, path: Path, attach: Mapping[str, Path] | None = None,
                 search_from: Mapping[str, str] | None = None, *, continued: Iterable[str] = ()) -> None:
        """`continued`: the tables that the database at `path`, made ahead and paused (`pause`), holds already, in
        the order they are given: it is continued with the next, not created."""
        continued = set(continued)
        if path.exists() and not continued:
            raise FileExistsError(f"{path} already exists; the database is always written to a new file")
        self.path = path
        self.connection = sqlite3.connect(path, uri=True, isolation_level=None)  # transactions as written below
        try:
            self.connection.execute("PRAGMA journal_mode = MEMORY")  # a fresh staging file: no journal on disk
            self.connection.execute("PRAGMA synchronous = OFF")  # the whole file is fsynced before it is moved
            self.aliases = _attach(self.connection, attach or {})
            self.connection.execute(f'ATTACH DATABASE ":memory:" AS "{SEARCH}"')
            self.search_from = dict(search_from or {})
            self.indexed: set[str] = continued
            self.unindexed: Table | None = None
            self.connection.execute("BEGIN")  # the tables and the first one's rows: one transaction
            # each full-text index too, empty: its tables are filled by copying (_index)
            for statement in () if continued else schema_sql().tables:
                self.connection.execute(statement)
        except BaseException:
            self.connection.close()
            raise

    def __enter__(self) -> NewDatabase:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.finish()
        else:
            self.close()

    def add_rows(self, table: Table, rows: Iterable[Values]) -> None:
        """Fill a table with rows as values in column order, already in primary-key order (lists as lists)."""
        self._filling(table)
        self.connection.executemany(_insert_values(table), stored(table, _in_key_order(table, rows)))

    def add_selected(self, table: Table, parts: Iterable[Part]) -> None:
        """Fill a table part after part (what a SELECT gives, or rows as stored): together, its rows in primary-key
        order."""
        self._filling(table)
        for part in parts:
            if isinstance(part, tuple):
                select, parameters = part
                self.connection.execute(f"{_insert(table)} {select}", parameters)
            else:
                self.connection.executemany(_insert_values(table), part)

    def _filling(self, table: Table) -> None:
        self.index()  # the table filled before, if not yet: whichever way rows come, the same steps in the same order
        self.unindexed = table

    def index(self) -> None:
        """Give the table filled last its indexes and full-text search, if it has not had them yet (the next table
        filled, or `finish`, does it otherwise). The table's rows, its indexes and its full-text index are each
        written in transactions of their own, the same in every build."""
        if self.unindexed is None:
            return
        self.connection.execute("COMMIT")
        self._index(self.unindexed)
        self.indexed.add(self.unindexed.name)
        self.unindexed = None
        self.connection.execute("BEGIN")

    def pause(self) -> None:
        """Index the table filled last and close, leaving the database to be continued (`continued`) by another
        connection, which takes the same steps from there: so the same bytes."""
        self.index()
        self.connection.execute("COMMIT")  # the transaction `index` began holds nothing yet: nothing is written
        self.connection.close()

    def finish(self) -> Path:
        """Index the table filled last, commit, and index any table left empty; the database is then complete and
        closed."""
        try:
            self.index()
            self.connection.execute("COMMIT")
            for table in TABLES:
                if table.name not in self.indexed:
                    self._index(table)
            for alias in (*self.aliases, SEARCH):
                self.connection.execute(f'DETACH DATABASE "{alias}"')
            self.connection.execute("PRAGMA journal_mode = DELETE")
        finally:
            self.connection.close()
        return self.path

    def close(self) -> None:
        """Close without finishing (after an error: the file is never published)."""
        self.connection.close()

    def _index(self, table: Table) -> None:
        """The table's indexes, then its full-text index: copied from the database `search_from` names for it, else
        made in the database in memory, copied, and dropped there."""
        for statement in schema_sql().indexes[table.name]:
            self.connection.execute(statement)
        if table.search and table.name in self.search_from:
            self._copy_search(table, self.search_from[table.name])
        elif table.search:
            searched = column_list(table.search)
            self.connection.execute(_search_sql(table, SEARCH))
            self.connection.execute(f'INSERT INTO {SEARCH}."{table.name}_fts" (rowid, {searched}) '
                                    f'SELECT rowid, {searched} FROM main."{table.name}" ORDER BY rowid')
            self._copy_search(table, SEARCH)
            self.connection.execute(f'DROP TABLE {SEARCH}."{table.name}_fts"')

    def _copy_search(self, table: Table, source: str) -> None:
        # (FTS5 keeps what it read of an index for the connection: nothing here reads main's indexes after this)
        self.connection.execute("BEGIN")
        for name, key in SEARCH_TABLES:
            shadow = f'"{table.name}_fts_{name}"'
            self.connection.execute(f"DELETE FROM main.{shadow}")  # the rows an empty index starts with
            self.connection.execute(f"INSERT INTO main.{shadow} SELECT * FROM {source}.{shadow} ORDER BY {key}")
        self.connection.execute("COMMIT")


def _in_key_order(table: Table, rows: Iterable[Values]) -> Iterator[Values]:
    """The rows, checked as they pass to come in strictly increasing primary-key order: the order an incremental
    build's SELECTs give (Python orders text by code point, SQLite by UTF-8 bytes: the same order), on which the same
    bytes depend. Raises ValueError at the first row out of order (a repeated key included)."""
    key = table.values_key
    previous: Any = None
    for row in rows:
        current = key(row)
        if previous is not None and not previous < current:
            raise ValueError(f"the rows of {table.name} are not in primary-key order: {previous!r}, then {current!r}")
        previous = current
        yield row


def assemble(path: Path, scratch: Path, parts: Callable[[sqlite3.Connection, Table], Iterable[Part]],
             attach: Mapping[str, Path] | None = None, search_from: Mapping[str, str] | None = None,
             continued: tuple[str, ...] = ()) -> Path:
    """Create the database at `path`: every table filled with the parts that `parts` gives for it (asked with the
    connection making the database, which has `scratch` attached as SCRATCH and the others as named), with its
    indexes and full-text search (`search_from`: as NewDatabase's). `continued`: the first tables of ORDER, which
    the database already at `path` holds, made ahead and paused (NewDatabase's `continued`)."""
    assert continued == tuple(table.name for table in ORDER[:len(continued)]), "continued: the first tables of ORDER"
    with NewDatabase(path, {SCRATCH: scratch, **(attach or {})}, search_from, continued=continued) as database:
        for table in ORDER[len(continued):]:
            database.add_selected(table, parts(database.connection, table))
    return path


def ordered(table: Table, source: str) -> str:
    """The SELECT of a table's columns from `source`, in primary-key order: the order of the database's rows."""
    return f"SELECT {column_list(table.column_names)} FROM ({source}) ORDER BY {column_list(table.primary_key)}"


@contextmanager
def attached(scratch: Path, attach: Mapping[str, Path]) -> Iterator[sqlite3.Connection]:
    """A connection to nothing but the scratch database (as SCRATCH) and the others (as named), read-only."""
    connection = sqlite3.connect(":memory:", uri=True)
    try:
        _attach(connection, {SCRATCH: scratch, **attach})
        yield connection
    finally:
        connection.close()


def _attach(connection: sqlite3.Connection, databases: Mapping[str, Path]) -> list[str]:
    for alias, attached_path in databases.items():
        connection.execute(f'ATTACH DATABASE ? AS "{alias}"', (f"{attached_path.resolve().as_uri()}?mode=ro",))
    return list(databases)


@dataclass(frozen=True)
class SchemaSql:
    """The statements that create the database's schema."""

    tables: tuple[str, ...]  # each table's CREATE TABLE (in TABLES order), then each full-text index's
    indexes: dict[str, tuple[str, ...]]  # each table's CREATE INDEX statements, by table name


@functools.cache
def schema_sql() -> SchemaSql:
    """The statements that create every table, full-text index and index from tables.py, as sqlite-utils writes
    them: taken once from a database in memory where it made them, so that making a database runs each statement
    once. (sqlite-utils reads the schema back around each, hundreds of small queries that each waited for the GIL
    beside the database process's Parquet thread: 0.04-0.07 s before the first row went in, at 10,000 records.) The
    database process makes them while it waits for its job."""
    import sqlite_utils  # imported here: only the database process makes a database, the build reads one

    connection = sqlite3.connect(":memory:")
    try:
        db = sqlite_utils.Database(connection)
        indexes = {}
        for table in TABLES:
            _create(db, table)
        for table in TABLES:
            names = [f"idx_{table.name}_{'_'.join(columns)}" for columns in table.indexes]
            for columns, name in zip(table.indexes, names, strict=True):
                db.table(table.name).create_index(columns, index_name=name)
            indexes[table.name] = tuple(_created(connection, "index", name) for name in names)
        tables = tuple(_created(connection, "table", table.name) for table in TABLES)
        return SchemaSql((*tables, *(_search_sql(table, "main") for table in TABLES if table.search)), indexes)
    finally:
        connection.close()


def _created(connection: sqlite3.Connection, kind: str, name: str) -> str:
    return str(connection.execute("SELECT sql FROM sqlite_master WHERE type = ? AND name = ?", (kind, name)).fetchone()[0])


def _create(db: sqlite_utils.Database, table: Table) -> None:
    db.table(table.name).create(
        {column.name: SQLITE_TYPES[column.type] for column in table.columns},
        pk=table.primary_key[0] if len(table.primary_key) == 1 else table.primary_key,
        foreign_keys=[(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys],
        not_null=[column.name for column in table.columns if column.required],
        strict=True,
    )


def column_list(names: Iterable[str]) -> str:
    """Column names as SQL lists them: `"a", "b"`."""
    return ", ".join(f'"{name}"' for name in names)


def marks(count: int) -> str:
    """`count` parameters, as SQL lists them: `?, ?`."""
    return ", ".join("?" * count)


def _insert(table: Table) -> str:
    return f'INSERT INTO main."{table.name}" ({column_list(table.column_names)})'


def _insert_values(table: Table) -> str:
    return f"{_insert(table)} VALUES ({marks(len(table.columns))})"


def _search_sql(table: Table, schema: str) -> str:
    """The full-text index of a table's `search` columns (FTS5, its rows read from the table: Datasette's search)."""
    columns = column_list(table.search)
    return f'CREATE VIRTUAL TABLE {schema}."{table.name}_fts" USING FTS5 ({columns}, content="{table.name}")'


@contextmanager
def read_only(path: Path, attach: Mapping[str, Path] | None = None) -> Iterator[sqlite3.Connection]:
    """A connection that cannot change the database at `path` (nor those it has attached, by alias), closed on
    leaving the block."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        _attach(connection, attach or {})
        yield connection
    finally:
        connection.close()


def foreign_key_problems(path: Path, tables: Iterable[str] | None = None) -> list[str]:
    """What `PRAGMA foreign_key_check` finds in `tables` (None: every table), one line per row whose reference
    does not resolve."""
    with read_only(path) as connection:
        found = [row for statement in (["PRAGMA foreign_key_check"] if tables is None else
                                       [f'PRAGMA foreign_key_check("{name}")' for name in tables])
                 for row in connection.execute(statement)]
    return [f"{table} row {rowid}: no {parent} for its foreign key #{key}" for table, rowid, parent, key in found]


def query_parameters(sql: str) -> dict[str, None]:
    """Each named parameter of a canned query (`:name`), as None: enough to compile it."""
    return dict.fromkeys(re.findall(r"(?<!:):([A-Za-z_]\w*)", sql))


def statement_problems(path: Path, statements: dict[str, str]) -> dict[str, str]:
    """For each named SQL statement that SQLite cannot compile against the database, the error (nothing is run)."""
    problems = {}
    with read_only(path) as connection:
        for name, sql in statements.items():
            try:
                connection.execute(f"EXPLAIN {sql}", query_parameters(sql)).fetchall()
            except sqlite3.Error as error:
                problems[name] = str(error)
    return problems
