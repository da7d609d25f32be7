"""Export, the database and what is read from it, made beside the other outputs, in a second process.

The database is loaded from the release's own JSON files, table by table as the build finishes writing each
one: the same rows, read back from the bytes published beside it, so that the database always holds exactly
what the files say, and a build that reuses files from the previous release (export/incremental.py) gets the
same database as a build that wrote them all. Then come the indexes and full-text search, the foreign-key
check, the canned queries, the overview table and the chart (the parts of a build that only read the database).

On a machine with fork(2), this runs in a forked child, on the second core, while the build writes the
other files; the child never touches the parent's records (it reads the files), so that copy-on-write does
not copy them. Elsewhere, or when threads are running (fork would copy their locks, not the threads), it runs
in the build's own process when asked for its result. Either way it gives the same bytes and problems; an
exception in the child is raised in the build as if it had happened there.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
import pickle
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection
from operator import itemgetter
from pathlib import Path
from typing import Any

from belarus_releases.check.metadata import database_name, table_metadata
from belarus_releases.export.chart import write_chart
from belarus_releases.export.downloads import CHART, PACKAGE_ZIP, write_package_zip
from belarus_releases.export.files import Values
from belarus_releases.export.flatten import CONTRIBUTOR
from belarus_releases.export.overview import OverviewError, canned_query, run_query, write_overview
from belarus_releases.export.parquet import write_parquet_values
from belarus_releases.export.sqlite import SCRATCH, ScratchRows, assemble, foreign_key_problems, read_only, statement_problems
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import BY_NAME, TABLES, Table

LINES = 8192  # JSON lines parsed at once: the database is loaded without holding a whole table
PREVIOUS = "previous"  # the name the previous release's database is attached under


@dataclass(frozen=True)
class Rows:
    """Where the database's rows come from: the release's JSON files (a full build), or the previous release's
    database less the rows of the `dropped` records, plus the `changed` records' new rows (an incremental build)."""

    previous: Path | None = None
    changed: dict[str, list[Values]] = field(default_factory=dict)
    dropped: frozenset[str] = frozenset()
    parquet: frozenset[str] = frozenset(table.name for table in TABLES)  # tables whose Parquet file is made here


@dataclass
class DatabaseResult:
    """What checking the built database found, kept apart because the build reports them in its own order."""

    foreign_keys: list[Problem] = field(default_factory=list)
    queries: list[Problem] = field(default_factory=list)
    overview: list[Problem] = field(default_factory=list)


def json_rows(table: Table, path: Path) -> Iterator[list[Values]]:
    """The rows of <table>.json (one object per line), as values in column order, a chunk at a time."""
    get = itemgetter(*table.column_names)
    with path.open(encoding="utf-8") as handle:
        if handle.readline() != "[\n":
            raise ValueError(f"{path.name} does not start with the line '['")
        while lines := list(islice(handle, LINES)):
            text = "".join(lines).rstrip()
            if text.endswith("]"):  # the last chunk ends the array
                text = text[:-1].rstrip()
            if text:
                yield [get(row) for row in json.loads(f"[{text.rstrip(',')}]")]


def load_database(folder: Path, path: Path, rows: Rows, ready: Callable[[str], None]) -> Path:
    """Make the database at `path` from `rows`; a JSON file in `folder` is read once `ready(its table)` returns."""
    scratch = path.with_name(f".{path.name}.rows")
    try:
        with ScratchRows(scratch) as store:
            if rows.previous is None:
                for table in TABLES:
                    ready(table.name)
                    store.add(table, (row for chunk in json_rows(table, folder / f"{table.name}.json") for row in chunk))
            else:
                for name, values in rows.changed.items():
                    store.add(BY_NAME[name], values)
                store.add_ids("dropped", rows.dropped)
        if rows.previous is None:
            return assemble(path, scratch, {table.name: f'SELECT * FROM {SCRATCH}."{table.name}"' for table in TABLES})
        return assemble(path, scratch, {table.name: _kept_and_changed(table) for table in TABLES},
                        {PREVIOUS: rows.previous})
    finally:
        scratch.unlink(missing_ok=True)


def _kept_and_changed(table: Table) -> str:
    """The SELECT of a table's rows in an incremental build: the previous rows of unchanged records, and the new."""
    names = ", ".join(f'"{name}"' for name in table.column_names)
    if table.name not in CONTRIBUTOR:  # a registry table: the registries are the same as the previous build's
        return f'SELECT {names} FROM {PREVIOUS}."{table.name}"'
    return (f'SELECT {names} FROM {PREVIOUS}."{table.name}" WHERE "{CONTRIBUTOR[table.name]}" NOT IN '
            f'(SELECT id FROM {SCRATCH}.dropped) UNION ALL SELECT {names} FROM {SCRATCH}."{table.name}"')


def write_parquet_files(database: Path, folder: Path, metadata: dict[str, Any], layout: Layout, names: frozenset[str]) -> None:
    """<table>.parquet for the named tables, from the database's rows (lists read back from their JSON text)."""
    with read_only(database) as connection:
        for table in TABLES:
            if table.name in names:
                columns = table_metadata(metadata, database_name(layout), table.name)["columns"]
                write_parquet_values(table, list(_plain(table, _select(connection, table))), folder / f"{table.name}.parquet",
                                     columns)


def _select(connection: sqlite3.Connection, table: Table) -> Iterator[Values]:
    names = ", ".join(f'"{name}"' for name in table.column_names)
    yield from connection.execute(f'SELECT {names} FROM "{table.name}" ORDER BY rowid')


def _plain(table: Table, rows: Iterable[Values]) -> Iterator[Values]:
    """Rows as stored (lists as JSON text) made plain values again."""
    arrays = [index for index, column in enumerate(table.columns) if column.type == "array"]
    for row in rows:
        if arrays:
            cells = list(row)
            for index in arrays:
                if cells[index] is not None:
                    cells[index] = json.loads(cells[index])
            row = tuple(cells)
        yield row


FILES_WRITTEN = "files"  # told once every CSV and JSON file and datapackage.json is written


def database_outputs(layout: Layout, metadata: dict[str, Any], folder: Path, rows: Rows,
                     ready: Callable[[str], None]) -> DatabaseResult:
    """The database, checked; the Parquet files, the zip of the package, overview.md and the chart."""
    database = load_database(folder, folder / layout.database.name, rows, ready)
    write_parquet_files(database, folder, metadata, layout, rows.parquet)
    ready(FILES_WRITTEN)
    write_package_zip(folder, folder / PACKAGE_ZIP)
    result = DatabaseResult()
    result.foreign_keys = [Problem(layout.relative(layout.database), 0, 0, "package-invalid", message)
                           for message in foreign_key_problems(database)]
    queries = metadata["databases"][database_name(layout)].get("queries") or {}
    failing = statement_problems(database, {name: query["sql"] for name, query in queries.items()})
    result.queries = [Problem(layout.relative(layout.metadata), 0, 0, "metadata-invalid", f"canned query '{name}': {error}")
                      for name, error in sorted(failing.items())]
    if result.foreign_keys or result.queries:
        return result  # nothing will be published: the overview's query may be the one failing
    try:
        releases = run_query(database, canned_query(metadata))  # run once for the table and the chart
    except OverviewError as error:
        result.overview = [Problem(layout.relative(layout.metadata), 0, 0, "metadata-invalid", str(error))]
        return result
    write_overview(database, metadata, folder / layout.overview.name, releases)
    write_chart(database, metadata, folder / CHART, releases)
    return result


class DatabaseJob:
    """`database_outputs` running beside the build: tell it each table whose JSON file is written, then ask for
    its result. Close it in every case (a failed build stops the child)."""

    def __init__(self, layout: Layout, metadata: dict[str, Any], folder: Path, rows: Rows) -> None:
        self.arguments = (layout, metadata, folder, rows)
        self.process: Any = None
        if "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
            self.connection, child = multiprocessing.Pipe()
            gc.freeze()  # the child's collections leave the parent's objects alone, so their pages stay shared
            try:
                self.process = multiprocessing.get_context("fork").Process(target=_child, args=(child, *self.arguments),
                                                                            daemon=True)
                self.process.start()
            finally:
                gc.unfreeze()
            child.close()

    def ready(self, table: str) -> None:
        if self.process is not None:
            self.connection.send(table)

    def result(self) -> DatabaseResult:
        if self.process is None:
            return database_outputs(*self.arguments, ready=lambda _: None)
        try:
            outcome, value = self.connection.recv()
        except EOFError:  # the child died without a word (killed, or out of memory)
            self.process.join()
            raise RuntimeError(f"the database process ended with exit code {self.process.exitcode}") from None
        if outcome == "error":
            raise value
        assert isinstance(value, DatabaseResult)
        return value

    def close(self) -> None:
        if self.process is not None:
            if self.process.is_alive():
                self.process.kill()
            self.process.join()
            self.connection.close()


def _child(connection: Connection, layout: Layout, metadata: dict[str, Any], folder: Path, rows: Rows) -> None:
    def ready(table: str) -> None:
        if connection.recv() != table:
            raise RuntimeError(f"the build did not write {table}.json in table order")

    try:
        connection.send(("ok", database_outputs(layout, metadata, folder, rows, ready)))
    except EOFError:  # the build stopped before writing every table: nobody is waiting for a result
        pass
    except BaseException as error:  # sent to the build, which raises it as its own
        connection.send(("error", error if _picklable(error) else RuntimeError(f"{type(error).__name__}: {error}")))


def _picklable(error: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return False
    return True
