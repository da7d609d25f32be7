"""Export, the database process: the database and what is read from it, made beside the other outputs.

export/database_work.py does the work; this module runs it in a second Python process (export/side_process.py),
on the second core, while the build writes the CSV and JSON files, and gives it each table's rows as the build
comes to that table's files. Exceptions in it are raised in the build as if they had happened there; a process
that dies without an answer is an error too. With database_job.SEPARATE_PROCESS false, or where no Python
executable is known, the same work runs in the build's own process when its result is asked for: the same bytes
and problems.
"""

from __future__ import annotations

import pickle
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from belarus_releases.check.metadata import database_name, table_metadata
from belarus_releases.export import database_job
from belarus_releases.export.database_job import (
    LINES,
    NAME,
    ORDER,
    PARQUET_WRITTEN,
    RUN,
    Ahead,
    DatabaseResult,
    Job,
    Rows,
    rows_path,
    scratch_path,
)
from belarus_releases.export.files import Values
from belarus_releases.export.publish import ahead_path
from belarus_releases.export.side_process import SideProcess
from belarus_releases.export.sqlite import ScratchRows
from belarus_releases.layout import Layout
from belarus_releases.tables import BY_NAME, TABLES

__all__ = ["ORDER", "DatabaseJob", "DatabaseResult", "Rows", "incremental_job", "job"]


def job(layout: Layout, metadata: dict[str, Any], folder: Path, rows: Rows) -> Job:
    """The work for the release in `folder`, with what it needs of metadata.yml."""
    database = database_name(layout)
    queries = metadata["databases"][database].get("queries") or {}
    return Job(folder, layout.database.name, layout.overview.name,
               {"database": layout.relative(layout.database), "metadata": layout.relative(layout.metadata)},
               metadata, {name: query["sql"] for name, query in queries.items()},
               {table.name: table_metadata(metadata, database, table.name)["columns"] for table in TABLES}, rows)


def incremental_job(layout: Layout, metadata: dict[str, Any], folder: Path, previous: Path,
                    changed: dict[str, list[Values]], dropped: frozenset[str], touched: frozenset[str],
                    releases: str | None = None) -> Job:
    """The work of an incremental build: the previous database's rows, less the dropped records', plus the
    changed records' new rows, which are put in the scratch database here. `releases`: the previous release's
    releases_digest, when its manifest has one."""
    work = job(layout, metadata, folder, Rows(previous, touched, releases))
    with ScratchRows(scratch_path(work)) as store:
        for name, values in changed.items():
            store.add(BY_NAME[name], values)
        store.add_ids("dropped", dropped)
    return work


class DatabaseJob:
    """The process beside the build: started early (by `build` before its imports, else here: its start overlaps
    the check), then given its work, told each table whose rows are ready (in ORDER), asked to wait for the Parquet
    files, then for its result. Close it in every case (a failed build stops it)."""

    def __init__(self) -> None:
        self.work: Job | None = None
        self.process: SideProcess | None = None
        self.outcome: DatabaseResult | None = None
        self.ahead: Ahead | None = None
        self.restart()

    def restart(self) -> None:
        """A fresh process, with no work yet (after a build that changed its plan)."""
        self.close()
        self.work, self.outcome, self.ahead = None, None, None
        if database_job.SEPARATE_PROCESS:
            self.process = SideProcess.started(RUN, NAME)

    def make_ahead(self, layout: Layout) -> None:
        """Have the process make the tables of AHEAD from the live release's database while the build checks the
        dataset, if there is one (a rebuild then continues from them when their rows are unchanged). Only a process
        beside the build: one in this process would have no time to spare."""
        try:  # as the plan names it (export/incremental.py)
            previous = layout.current.resolve(strict=True) / layout.database.name
            if self.process is None or self.work is not None or not previous.is_file():
                return
        except OSError:  # no live release, or none this build can read: nothing to make ahead
            return
        self.ahead = Ahead(previous, ahead_path(layout))
        self.process.send(self.ahead)

    def submit(self, work: Job) -> None:
        self.work = work
        if self.process is not None:
            self.process.send(work)  # small (the rows are in files)

    def ready(self, name: str, rows: Sequence[Values] | None = None) -> None:
        """Tell it that the rows of table `name` are ready; in a full build, with the rows, pickled into a file
        (unpickling them is a tenth of the time of reading the JSON back; the pipe would make the build wait while
        the process works)."""
        if rows is not None and self.work is not None:
            with rows_path(self.work.folder, name).open("wb") as handle:
                for start in range(0, len(rows), LINES):
                    pickle.dump(list(rows[start:start + LINES]), handle, pickle.HIGHEST_PROTOCOL)
        if self.process is not None:
            self.process.send(name)

    def parquet_written(self) -> None:
        """Return once the Parquet files are written (in this process: once everything is)."""
        if self.work is None:
            raise RuntimeError("the database process was given no work")
        if self.process is None:
            from belarus_releases.export.database_work import database_outputs  # Arrow and the rest: only here

            self.outcome = database_outputs(self.work, lambda _: None, lambda: None)
            return
        self.process.answer(PARQUET_WRITTEN)

    def result(self) -> DatabaseResult:
        if self.outcome is None:
            assert self.process is not None, "in this process, parquet_written made the outcome"
            outcome = self.process.answer("ok")
            assert isinstance(outcome, DatabaseResult)
            self.outcome = outcome
        return self.outcome

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None
        if self.work is not None:
            scratch_path(self.work).unlink(missing_ok=True)
        if self.ahead is not None:  # what it made ahead and no release took (a failed check, a full build)
            self.ahead.path.unlink(missing_ok=True)
