"""export/database.py: the database process raises its errors in the build, and a process that dies is an error;
the command `build` starts it before its own imports (database_job.started_early), and the build takes it."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from belarus_releases.cli import cli
from belarus_releases.export import build as build_module
from belarus_releases.export import database_job, side_process
from belarus_releases.export.database import DatabaseJob
from belarus_releases.export.database_job import RUN, Job, Rows, started_early
from belarus_releases.layout import Layout
from test_package_verifier import wait_until_ignoring_ctrl_c


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


def _database_processes(monkeypatch: pytest.MonkeyPatch, events: list[str]) -> None:
    """Each database process started is noted in `events`."""
    popen = subprocess.Popen

    def noted(command: list[str], **options: Any) -> subprocess.Popen[bytes]:
        if command[-1] == RUN:
            events.append("database process started")
        return popen(command, **options)

    monkeypatch.setattr(subprocess, "Popen", noted)


def test_a_database_process_started_early_is_the_one_the_next_build_takes(monkeypatch: pytest.MonkeyPatch,
                                                                          tmp_path: Path) -> None:
    started: list[str] = []
    _database_processes(monkeypatch, started)
    with started_early():
        side_process.start_early(RUN, "the database process")  # one is enough
        first, second = DatabaseJob(), DatabaseJob()
    try:
        assert first.process is not None and second.process is not None
        assert started == ["database process started"] * 2  # the early one, then the second build's own
        first.submit(_job(tmp_path))  # and the early one works
        with pytest.raises(sqlite3.OperationalError, match="unable to open"):
            first.result()
    finally:
        first.close()
        second.close()


def test_a_database_process_started_early_and_not_taken_is_stopped_when_the_block_ends() -> None:
    with started_early():
        early = side_process._EARLY[RUN]
    assert early.popen.poll() is not None and not side_process._EARLY


def test_no_database_process_is_started_early_where_the_build_would_not_take_it(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    _database_processes(monkeypatch, started)
    monkeypatch.setattr(database_job, "SEPARATE_PROCESS", False)
    with started_early():
        assert DatabaseJob().process is None
    assert not started


def test_a_database_process_started_early_that_ended_is_not_taken() -> None:
    with started_early():
        early = side_process._EARLY[RUN]
        early.popen.kill()
        early.popen.wait()
        database = DatabaseJob()
    try:
        assert database.process is not None and database.process is not early
        assert database.process.popen.poll() is None
    finally:
        database.close()


def test_a_process_started_early_and_never_taken_is_stopped_when_python_exits() -> None:
    code = ("from belarus_releases.export.side_process import _EARLY, start_early; "
            "start_early('import time; time.sleep(60)', 'a process'); print(_EARLY[next(iter(_EARLY))].popen.pid)")
    pid = int(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                             timeout=30).stdout)
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_the_build_command_starts_the_database_process_before_the_build(monkeypatch: pytest.MonkeyPatch,
                                                                        fixture_built: Layout) -> None:
    events: list[str] = []
    _database_processes(monkeypatch, events)
    build_dataset = build_module.build_dataset

    def noted(*arguments: Any, **options: Any) -> Any:
        events.append("build")
        return build_dataset(*arguments, **options)

    monkeypatch.setattr(build_module, "build_dataset", noted)
    result = CliRunner().invoke(cli, ["build", "--root", str(fixture_built.root)])
    assert result.exit_code == 0, result.output
    assert events == ["database process started", "build"]  # and the build took it: no second one
    assert not side_process._EARLY


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads a process's signal mask from /proc")
def test_a_side_process_ignores_ctrl_c_while_it_still_imports(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Ctrl-C in the terminal reaches every process of the build; one started early is still importing then."""
    (tmp_path / "slow_to_import.py").write_text(
        "import pathlib, time\ntime.sleep(1)\npathlib.Path(__file__).with_name('imported').touch()\n"
        "def main():\n    pass\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    process = side_process.SideProcess(side_process.running("slow_to_import"), "a process")
    try:
        wait_until_ignoring_ctrl_c(process.popen.pid)
        assert not (tmp_path / "imported").exists()  # ignored from before its imports
        os.kill(process.popen.pid, signal.SIGINT)
        assert process.popen.wait(timeout=30) == 0 and (tmp_path / "imported").exists()
    finally:
        process.close()
