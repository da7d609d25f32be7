"""Export, what the database process checks and derives once the database is made: its foreign keys, the canned
queries compiled, the releases query run once for overview.md and the chart (or not at all when it reads what it read
in the previous release), and the file made durable with its manifest entry taken. The foreign keys, the fsync and
the hash each run in a thread of their own, beside the queries (all only read the finished database).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from belarus_releases.export.chart import write_chart
from belarus_releases.export.database_job import PREVIOUS, DatabaseResult, Job, scratch_path
from belarus_releases.export.downloads import CHART, link_or_copy
from belarus_releases.export.incremental import file_entry
from belarus_releases.export.overview import (
    OverviewError,
    canned_query,
    releases_digest,
    rows_read_as_before,
    run_query,
    write_overview,
)
from belarus_releases.export.publish import fsync
from belarus_releases.export.sqlite import foreign_key_problems, read_only, statement_problems
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES


def checked_database(job: Job, database: Path) -> DatabaseResult:
    """What checking the finished database found, overview.md and the chart made, and its manifest entry."""
    with ThreadPoolExecutor(3) as pool:
        foreign_keys = pool.submit(_foreign_key_problems, job, database)
        # its bytes on disk (publishing then finds them there: the build waits for this process, not for the disk),
        # and hashed beside (0.011 s and 0.021 s at 10,000 records)
        durable, entry = pool.submit(fsync, database), pool.submit(file_entry, database)
        result = _queries_and_overview(job, database)
        result.foreign_keys = [Problem(job.shown["database"], 0, 0, "package-invalid", message)
                               for message in foreign_keys.result()]
        durable.result()
        result.entries[job.database] = entry.result()
    return result  # with a foreign key problem, nothing is published: an overview made meanwhile goes with the rest


def _foreign_key_problems(job: Job, database: Path) -> list[str]:
    """What the foreign key check finds in every table but, in an incremental build where no previous event is
    gone, in those whose rows changed (Rows.parquet) alone. The others hold the previous release's rows, whose keys
    were checked in its build, and every key they refer to is still there: the events (a changed record keeps its
    id, its file's name), the people and the sources (the registries are the previous build's: its key includes
    them). At 10,000 records, the check of every table took 0.065 s after one edit."""
    if job.rows.previous is None:
        return foreign_key_problems(database)
    with read_only(database, {PREVIOUS: job.rows.previous}) as connection:
        gone = connection.execute(f"SELECT 1 FROM {PREVIOUS}.events WHERE id NOT IN (SELECT id FROM main.events) "
                                  "LIMIT 1").fetchone()
    return foreign_key_problems(database, None if gone else [table.name for table in TABLES if table.name in job.rows.parquet])


def _queries_and_overview(job: Job, database: Path) -> DatabaseResult:
    """The canned queries compiled, then overview.md and the chart from the releases query, run once for both."""
    result = DatabaseResult()
    failing = statement_problems(database, job.queries)
    result.queries = [Problem(job.shown["metadata"], 0, 0, "metadata-invalid", f"canned query '{name}': {error}")
                      for name, error in sorted(failing.items())]
    if result.queries:
        return result  # nothing will be published: the overview's query may be the one failing
    try:
        sql = canned_query(job.metadata)
        if _reads_as_before(job, database, sql):  # the previous release's rows: not run again
            result.releases_digest = job.rows.releases
            link_from_previous(job, (job.overview, CHART))
            return result
        releases = run_query(database, sql)
    except OverviewError as error:
        result.overview = [Problem(job.shown["metadata"], 0, 0, "metadata-invalid", str(error))]
        return result
    result.releases_digest = releases_digest(releases)
    if job.rows.previous is not None and job.rows.releases == result.releases_digest:
        link_from_previous(job, (job.overview, CHART))  # the same rows: the same bytes
    else:
        write_overview(database, job.metadata, job.folder / job.overview, releases)
        write_chart(database, job.metadata, job.folder / CHART, releases)
    return result


def _reads_as_before(job: Job, database: Path, sql: str) -> bool:
    """Whether the releases query reads in the database what it read in the previous release's, whose rows' digest
    its manifest has (overview.rows_read_as_before)."""
    return (job.rows.previous is not None and job.rows.releases is not None
            and rows_read_as_before(database, job.rows.previous, scratch_path(job), sql, job.rows.parquet))


def link_from_previous(job: Job, names: tuple[str, ...]) -> None:
    """The previous release's files of these names in this one (a chart there may not be: no release to draw)."""
    assert job.rows.previous is not None
    for name in names:
        if (job.rows.previous.parent / name).exists():
            link_or_copy(job.rows.previous.parent / name, job.folder / name)
