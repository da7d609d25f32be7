"""Export, the work of the database process: the Parquet files, the database, overview.md and the chart.

The database is filled table by table as the build finishes writing each one's files, with the rows they were
written from, which the build leaves pickled beside them (export/database.py; unpickling is a tenth of the time of
reading the JSON back); a test checks that the database holds exactly what the JSON files say. An incremental
build (export/incremental.py) fills it from the previous release's database instead, less the rows of the records
that changed, plus their new rows: the same rows in the same order, so the same bytes (export/sqlite.py makes the
database the same way for both). The Parquet files are written from the rows it will hold, in its order and in
chunks of LINES rows, before the database is finished (a full build: from the rows the build sent, table by table;
an incremental one: from the previous Parquet files, with Arrow, in a thread while the database is made), so that
the build can zip the package meanwhile; then the database is checked, and overview.md and the chart made
(export/database_checks.py).

It imports nothing of the checks (only the writers), so that the process starts quickly; export/database.py
runs its `main` in a fresh Python (the job on stdin, the result on stdout).
"""

from __future__ import annotations

import itertools
import json
import os
import pickle
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from operator import itemgetter
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from belarus_releases.export.database_checks import checked_database, link_from_previous
from belarus_releases.export.database_job import (
    AHEAD,
    LINES,
    ORDER,
    PARQUET_WRITTEN,
    PREVIOUS,
    Ahead,
    DatabaseResult,
    Job,
    rows_path,
    scratch_path,
)
from belarus_releases.export.downloads import CHART
from belarus_releases.export.files import Values
from belarus_releases.export.parquet import arrow_schema, parquet_value, write_arrow
from belarus_releases.export.side_process import answering
from belarus_releases.export.sqlite import (
    SCRATCH,
    NewDatabase,
    Part,
    assemble,
    attached,
    column_list,
    ordered,
    schema_sql,
)
from belarus_releases.tables import TABLES, Table

AFTER_ALL = 1 << 62  # a rowid after every row's


def pickled_rows(path: Path) -> Iterator[list[Values]]:
    """The rows the build left in `path` (export/database.py), a chunk at a time; the file is removed once read."""
    try:
        with path.open("rb") as handle:
            while True:
                try:
                    yield pickle.load(handle)
                except EOFError:
                    return
    finally:
        path.unlink(missing_ok=True)


def _full(job: Job, ready: Callable[[str], None], parquet_written: Callable[[], None]) -> Path:
    """A full build's database: each table filled with the rows the build sent, as `ready` says they are (the
    rows make its Parquet file too, in the chunks `write_parquet_files` reads), then indexed; then
    `parquet_written()` (the last table is indexed before it, the database's other steps after)."""
    with NewDatabase(job.folder / job.database) as database:
        for table in ORDER:
            ready(table.name)
            batches: list[pa.RecordBatch] | None = [] if table.name in job.rows.parquet else None
            database.add_rows(table, _teed(job, table, pickled_rows(rows_path(job.folder, table.name)), batches))
            if batches is not None:
                _write_parquet(job, table, batches)
            database.index()  # now, not once the next table's rows come
        parquet_written()
    return database.path


def _teed(job: Job, table: Table, chunks: Iterator[list[Values]], batches: list[pa.RecordBatch] | None) -> Iterator[Values]:
    """The rows of each chunk, each chunk kept as an Arrow batch too when `batches` is a list."""
    schema = arrow_schema(table, job.descriptions.get(table.name))
    for chunk in chunks:
        if batches is not None:
            batches.append(_batch(table, schema, chunk))
        yield from chunk


def kept_and_changed(connection: sqlite3.Connection, table: Table) -> list[Part]:
    """A table's rows in an incremental build, as parts to be inserted in turn, together in primary-key order: the
    previous rows of unchanged records (SELECTs of rowid ranges) and the changed records' new rows. The previous
    database holds each table's rows in primary-key order, rowid after rowid (every build inserts them so:
    export/sqlite.py), so each new row goes before the first row kept whose key is greater, found by the key's
    index: a merge, where one ordered SELECT of both sorted every row again (0.1-0.15 s of the 0.45 s the database
    took at 10,000 records). `connection` has the previous database and the scratch one attached."""
    names = column_list(table.column_names)
    previous = f'SELECT {names} FROM {PREVIOUS}."{table.name}"'
    if table.contributor is None:  # a registry table: the registries are the same as the previous build's
        return [all_previous(table)]
    key = column_list(table.primary_key)
    new_key = ", ".join(f'new."{name}"' for name in table.primary_key)
    kept = f'"{table.contributor}" NOT IN (SELECT id FROM {SCRATCH}.dropped)'
    before = (f"coalesce((SELECT rowid FROM {PREVIOUS}.\"{table.name}\" WHERE ({key}) > ({new_key}) AND {kept} "
              f"ORDER BY {key} LIMIT 1), {AFTER_ALL})")
    kept_range = f"{previous} WHERE rowid >= ? AND rowid < ? AND {kept} ORDER BY rowid"
    parts: list[Part] = []
    start = 0
    new_rows = connection.execute(f'SELECT {before}, {names} FROM {SCRATCH}."{table.name}" AS new ORDER BY {new_key}')
    for cut, rows in itertools.groupby(new_rows, key=itemgetter(0)):
        parts += [(kept_range, (start, cut)), [row[1:] for row in rows]]
        start = cut
    return [*parts, (kept_range, (start, AFTER_ALL))]


def all_previous(table: Table) -> Part:
    """Every row of a table in the previous release's database, in order: a table whose rows are all as they were."""
    return f'SELECT {column_list(table.column_names)} FROM {PREVIOUS}."{table.name}" ORDER BY rowid', ()


def made_ahead(ahead: Ahead) -> Ahead | None:
    """The tables of AHEAD made at `ahead.path` as a rebuild that leaves their rows as they were makes them (every
    previous row in order, the indexes, the full-text index copied), then paused: while the build checks the
    dataset, so that the rebuild, when it leaves them so, continues from there (at 10,000 records, the quotes took
    0.05-0.09 s of the database process, beside the build's own work). None when they could not be made."""
    try:
        database = NewDatabase(ahead.path, {PREVIOUS: ahead.previous}, {table.name: PREVIOUS for table in AHEAD})
        try:
            for table in AHEAD:
                database.add_selected(table, [all_previous(table)])
            database.pause()
        except BaseException:
            database.close()
            raise
    except Exception:  # a shortcut only (a full disk, a damaged previous database): the rebuild makes them itself
        ahead.path.unlink(missing_ok=True)
        return None
    return ahead


def _taken_ahead(job: Job, ahead: Ahead | None, path: Path) -> tuple[str, ...]:
    """The tables made ahead, moved to `path`, when they are this rebuild's (from its previous database, their rows
    unchanged) and still there (not removed by hand)."""
    if ahead is None or ahead.previous != job.rows.previous or {table.name for table in AHEAD} & job.rows.parquet:
        return ()
    try:
        os.rename(ahead.path, path)
    except OSError:
        return ()
    return tuple(table.name for table in AHEAD)


def write_parquet_files(job: Job) -> None:
    """<table>.parquet for the job's tables in an incremental build, from the previous release's: its rows of the
    records kept, and the changed records' new rows, in primary-key order, in the chunks of LINES rows a full build
    writes (Arrow does it all: no row becomes a Python object but the new ones)."""
    assert job.rows.previous is not None
    with attached(scratch_path(job), {}) as connection:
        dropped = pa.array([row[0] for row in connection.execute(f"SELECT id FROM {SCRATCH}.dropped")], pa.string())
        for table in TABLES:
            if table.name in job.rows.parquet:
                schema = arrow_schema(table, job.descriptions.get(table.name))
                previous = pq.read_table(job.rows.previous.parent / f"{table.name}.parquet")
                kept = previous.filter(pc.invert(pc.is_in(previous[table.contributor], value_set=dropped)))
                new = [_batch(table, schema, list(_plain(table, rows)))
                       for rows in _chunks(connection, table, f'SELECT * FROM {SCRATCH}."{table.name}"')]
                rows = pa.concat_tables([pa.Table.from_arrays(kept.columns, schema=schema),
                                         pa.Table.from_batches(new, schema=schema)])
                order = pc.sort_indices(rows, sort_keys=[(name, "ascending") for name in table.primary_key])
                _write_parquet(job, table, rows.take(order).combine_chunks().to_batches(max_chunksize=LINES))


def _parquet_files(job: Job, parquet_written: Callable[[], None]) -> None:
    write_parquet_files(job)
    parquet_written()


def _write_parquet(job: Job, table: Table, batches: list[pa.RecordBatch]) -> None:
    """The chunks are kept (their boundaries are where data pages end), so that a table is held once, as Arrow data:
    the same chunks of LINES rows whether they come from the JSON file or from the database."""
    schema = arrow_schema(table, job.descriptions.get(table.name))
    write_arrow(pa.Table.from_batches(batches, schema=schema), job.folder / f"{table.name}.parquet")
    batches.clear()
    pa.default_memory_pool().release_unused()  # the next table starts from little, not from this one's peak


def _chunks(connection: sqlite3.Connection, table: Table, source: str) -> Iterator[list[Values]]:
    cursor = connection.execute(ordered(table, source))
    while rows := cursor.fetchmany(LINES):
        yield rows


def _plain(table: Table, rows: list[Values]) -> Iterator[Values]:
    """Stored rows (lists as JSON text) as plain values again."""
    arrays = [index for index, column in enumerate(table.columns) if column.type == "array"]
    for row in rows:
        if not arrays:
            yield row
            continue
        cells = list(row)
        for index in arrays:
            if cells[index] is not None:
                cells[index] = json.loads(cells[index])
        yield tuple(cells)


def _batch(table: Table, schema: pa.Schema, rows: list[Values]) -> pa.RecordBatch:
    """One chunk of rows as plain values (lists as lists) as an Arrow batch, dates read from their ISO text."""
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in table.columns]
    return pa.RecordBatch.from_arrays(
        [pa.array([parquet_value(column, value) for value in values] if column.type == "date" else values, field.type)
         for column, values, field in zip(table.columns, columns, schema, strict=True)], schema=schema)


def database_outputs(job: Job, ready: Callable[[str], None], parquet_written: Callable[[], None],
                     ahead: Ahead | None = None) -> DatabaseResult:
    """The Parquet files (then `parquet_written()`) and the database (an incremental build makes the two at once,
    continuing the tables `ahead` made when they are its own), the database checked, overview.md and the chart."""
    path = job.folder / job.database
    continued: tuple[str, ...] = ()
    try:
        if job.rows.previous is not None and not job.rows.parquet:
            return _as_before(job, parquet_written)
        if job.rows.previous is None:
            database = _full(job, ready, parquet_written)
        else:  # Arrow and SQLite both let go of the GIL: the Parquet files are written while the database is made
            with ThreadPoolExecutor(1) as pool:
                parquet = pool.submit(_parquet_files, job, parquet_written)
                # a table whose rows are all as before (Rows.parquet) has the same full-text index
                as_before = {table.name: PREVIOUS for table in TABLES if table.name not in job.rows.parquet}
                continued = _taken_ahead(job, ahead, path)
                database = assemble(path, scratch_path(job), kept_and_changed, {PREVIOUS: job.rows.previous}, as_before,
                                    continued)
                parquet.result()
        return replace(checked_database(job, database), continued=continued)
    finally:  # the scratch database (read until the overview is settled) and the rows not read: never published
        scratch_path(job).unlink(missing_ok=True)
        for table in TABLES:
            rows_path(job.folder, table.name).unlink(missing_ok=True)


def _as_before(job: Job, parquet_written: Callable[[], None]) -> DatabaseResult:
    """No table's rows changed, and the build key (code, libraries, every other input) is the live release's: its
    database, overview.md and chart are this release's, byte for byte, and were checked when it was published. The
    build checks the live release's files against its manifest meanwhile, and builds in full if one differs."""
    parquet_written()
    link_from_previous(job, (job.database, job.overview, CHART))
    return DatabaseResult(releases_digest=job.rows.releases)


def main() -> None:
    """The database process: on stdin, pickled, what it may make Ahead (when the build may be a rebuild), a Job, then
    each name `ready` waits for; on stdout, PARQUET_WRITTEN when the Parquet files are, then the outcome."""
    stdin, send = answering()
    schema_sql()  # sqlite-utils imported (a tenth of a second) and its SQL made now, while the build still checks
    ahead = None
    try:
        job = pickle.load(stdin)
        if isinstance(job, Ahead):  # told first when the build may be a rebuild: made while it checks the dataset
            ahead = made_ahead(job)
            job = pickle.load(stdin)
        outcome: tuple[str, Any] = ("ok", database_outputs(job, lambda name: _expect(stdin, name),
                                                           lambda: send((PARQUET_WRITTEN, None)), ahead))
    except EOFError:  # the build stopped before the end: nobody is waiting for an answer
        return
    except BaseException as error:  # sent to the build, which raises it as its own
        outcome = ("error", error if _picklable(error) else RuntimeError(f"{type(error).__name__}: {error}"))
    finally:  # the tables made ahead, when no release took them: never published
        if ahead is not None:
            ahead.path.unlink(missing_ok=True)
    send(outcome)


def _expect(stdin: BinaryIO, name: str) -> None:
    told = pickle.load(stdin)
    if told != name:
        raise RuntimeError(f"the build told {told!r} where {name!r} was expected")


def _picklable(error: BaseException) -> bool:
    try:
        pickle.loads(pickle.dumps(error))
    except Exception:
        return False
    return True
