"""Export, the database process's work as plain data: what the build sends it and what it answers; and how the
process is run, and started before the build's own imports (`started_early`).

Apart from export/database_work.py, which does the work with Arrow, sqlite-utils and leather, so that the build's
own process, which only sends and reads these, never imports them (a tenth of a second of every build's start).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from belarus_releases.export import side_process
from belarus_releases.problems import Problem
from belarus_releases.tables import BY_NAME, TABLES

SEPARATE_PROCESS = True  # false: the build does the database's work itself (export/database.py)
RUN = side_process.running("belarus_releases.export.database_work")
NAME = "the database process"

LARGEST = ("quotes", "events")
ORDER = (*(BY_NAME[name] for name in LARGEST), *(table for table in TABLES if table.name not in LARGEST))
"""The order the build writes the tables' files in, and this process reads them: the largest first, so that
reading them overlaps the writing of the others."""
LINES = 8192  # rows a chunk (of the rows the build sends, or of database rows read): no table is held whole as
# Python objects; the Parquet files' data pages end where the chunks do, whichever way the rows came
PARQUET_WRITTEN = "parquet written"  # the process's word to the build that it may zip the package
PREVIOUS = "previous"  # the name the previous release's database is attached under


@dataclass(frozen=True)
class Rows:
    """Where the database's rows come from: the release's JSON files (a full build), or the previous release's
    database less the rows of the dropped records (found by each table's `contributor` column), plus the
    changed records' new rows, both put in the scratch database by the build (an incremental build)."""

    previous: Path | None = None
    # tables whose Parquet file is made here; in an incremental build, the others' rows are all as before (their
    # Parquet files linked, their full-text indexes copied)
    parquet: frozenset[str] = frozenset(table.name for table in TABLES)
    # the previous release's releases_digest (its manifest's), when known: the same query rows give the same
    # overview.md and chart, which are then linked from it
    releases: str | None = None


@dataclass(frozen=True)
class Ahead:
    """What the database process may make of a rebuild before it is given its job, while the build checks the
    dataset: the tables of AHEAD, from the live release's database (`previous`), at `path` (in build/, where the
    release's staging folder will be, named for the build: export/publish.py's AHEAD_NAME; removed unless the
    rebuild takes it)."""

    previous: Path
    path: Path


AHEAD = ORDER[:1]
"""The tables made ahead (Ahead): the first that a rebuild fills, the quotes, whose rows an edit to anything but a
quote leaves as they were (the next, the events, nearly every edit changes)."""


@dataclass(frozen=True)
class Job:
    """All the database process needs, as plain data: where, from what, and what to check and describe."""

    folder: Path
    database: str  # the database's file name
    overview: str  # overview.md's file name
    shown: dict[str, str]  # how problems name the database and metadata.yml
    metadata: dict[str, Any]
    queries: dict[str, str]  # every canned query's SQL, by name
    descriptions: dict[str, dict[str, str]]  # column descriptions, by table, for the Parquet files
    rows: Rows


@dataclass
class DatabaseResult:
    """What checking the built database found, kept apart because the build reports them in its own order."""

    foreign_keys: list[Problem] = field(default_factory=list)
    queries: list[Problem] = field(default_factory=list)
    overview: list[Problem] = field(default_factory=list)
    releases_digest: str | None = None  # of the rows of the overview's query (releases_digest), for the manifest
    # the manifest entries (size and SHA-256) of files this process wrote, taken while it checked them
    entries: dict[str, list[Any]] = field(default_factory=dict)
    continued: tuple[str, ...] = ()  # the tables a rebuild's database took made ahead (Ahead)


def scratch_path(job: Job) -> Path:
    """Where the rows wait before they go into the database (never published: removed once it is made)."""
    return job.folder / f".{job.database}.rows"


def rows_path(folder: Path, table: str) -> Path:
    """Where a full build leaves a table's rows for the database process, pickled in chunks of LINES rows, before it
    writes the table's files (never published: removed once read)."""
    return folder / f".{table}.rows.pickle"


@contextmanager
def started_early() -> Iterator[None]:
    """The database process started when the block begins, before the build's own imports, which take as long as
    its start (0.2 to 0.3 s each): both then start at once, on both cores. The block's build takes it
    (export/database.py's DatabaseJob); one it did not take is stopped when the block ends."""
    if SEPARATE_PROCESS:
        side_process.start_early(RUN, NAME)
    try:
        yield
    finally:
        side_process.stop_early(RUN)
