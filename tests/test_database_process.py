"""export/database.py: the database process raises its errors in the build, and a process that dies is an error."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from belarus_releases.export.database import DatabaseJob
from belarus_releases.export.database_job import Job, Rows


def _job(folder: Path) -> Job:
    """Work that fails at once: it starts from a previous database that is not there."""
    return Job(folder, "x.db", "overview.md", {"database": "x.db", "metadata": "metadata.yml"}, {}, {}, {},
               Rows(previous=folder / "missing.db"))


def test_an_error_in_the_database_process_is_raised_in_the_build(tmp_path: Path) -> None:
    database = DatabaseJob()
    try:
        assert database.process is not None
        database.submit(_job(tmp_path))
        with pytest.raises(sqlite3.OperationalError, match="unable to open"):
            database.result()
    finally:
        database.close()
    assert not (tmp_path / ".x.db.rows").exists()  # the scratch database is never left behind


def test_a_database_process_that_dies_is_an_error(tmp_path: Path) -> None:
    database = DatabaseJob()
    try:
        assert database.process is not None
        database.submit(_job(tmp_path))
        database.process.popen.kill()
        with pytest.raises(RuntimeError, match="exit code"):
            database.result()
    finally:
        database.close()


def test_closing_after_the_process_died_unread_raises_nothing(tmp_path: Path) -> None:
    """What the build sends to a process that has died stays in the pipe's buffer: closing it must not raise that
    error again (it would hide the one that says the process died)."""
    database = DatabaseJob()
    assert database.process is not None
    database.process.popen.kill()
    database.process.popen.wait()
    database.submit(_job(tmp_path))  # the pipe is broken: kept in the buffer
    with pytest.raises(RuntimeError, match="exit code"):
        database.result()
    database.close()
    assert database.process is None
