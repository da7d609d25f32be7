"""export/package_verifier.py: the verifier beside a full build reaches the fast verdict table by table, as the
build tells it each table written; whatever becomes of it, the build's verdict is the one it would reach alone."""

from __future__ import annotations

import errno
import io
import os
import pickle
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from belarus_releases.export import package_verifier
from belarus_releases.export.database import ORDER, DatabaseJob
from belarus_releases.export.datapackage import verified_package
from belarus_releases.export.package_check import fast_verdict
from belarus_releases.export.package_verifier import DONE, BuildGone, PackageVerifier, _told, verdict_of
from belarus_releases.export.side_process import SideProcess
from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES
from test_package_check import BROKEN, _changed
from test_write_datapackage import fixture_data, flatten_data, write_package

WRITTEN_ORDER = [table.name for table in ORDER]


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("package")
    write_package(folder, Layout(Path(__file__).resolve().parent.parent), flatten_data(*fixture_data()))
    return folder


def _telling(folder: Path, tables: list[str]) -> Iterator[object]:
    yield folder / "datapackage.json", folder
    yield from tables


def test_told_table_by_table_in_the_order_written_it_reaches_the_fast_verdict(written: Path) -> None:
    assert [table.name for table in TABLES] != WRITTEN_ORDER  # not the descriptor's order
    dialects = verdict_of(_telling(written, WRITTEN_ORDER))
    assert dialects is not None
    assert dialects == fast_verdict(written / "datapackage.json", written)


def test_a_broken_table_or_one_never_told_is_not_shown_valid(written: Path, tmp_path: Path) -> None:
    for number, (table, change) in enumerate(BROKEN.values()):
        folder = tmp_path / str(number)
        _changed(written, folder, table, change)
        assert verdict_of(_telling(folder, WRITTEN_ORDER)) is None, list(BROKEN)[number]
    assert verdict_of(_telling(written, WRITTEN_ORDER[:-1])) is None
    assert verdict_of(_telling(written, [*WRITTEN_ORDER, "events"])) is None  # a table told twice
    with pytest.raises(TypeError):  # told nothing of the package: a bug, not a verdict (the build checks it itself)
        verdict_of(iter([DONE]))


def test_a_build_that_stops_telling_ends_the_verifier_and_is_no_verdict() -> None:
    """The build's end is not a broken package: the verifier must not answer a verdict nobody waits for."""
    told = io.BytesIO(pickle.dumps((Path("datapackage.json"), Path("."))) + pickle.dumps("events"))
    with pytest.raises(BuildGone):
        verdict_of(_told(told))


def _verified_beside(written: Path, before_the_end: str = "") -> tuple[list[object], object]:
    verifier = PackageVerifier.started(1)
    assert verifier is not None and verifier.process is not None
    try:
        verifier.submit(written / "datapackage.json", written)
        for table in WRITTEN_ORDER:
            verifier.written(table)
        if before_the_end == "kill":
            verifier.process.popen.kill()
        problems, dialects = verifier.verified(written / "datapackage.json", written, shown_in="build/current/")
    finally:
        verifier.close()
    return list(problems), dialects


def test_the_process_answers_the_fast_verdict(written: Path) -> None:
    assert _verified_beside(written) == ([], fast_verdict(written / "datapackage.json", written))


def test_a_verifier_that_dies_leaves_the_verdict_to_the_build(written: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    asked = []

    def the_build_checks(descriptor: Path, basepath: Path) -> object:
        asked.append(descriptor)
        return fast_verdict(descriptor, basepath)

    monkeypatch.setattr(package_verifier, "fast_verdict", the_build_checks)
    assert _verified_beside(written, "kill") == ([], fast_verdict(written / "datapackage.json", written))
    assert asked, "the build did not check the package itself"


def test_a_package_not_shown_valid_has_its_errors_worded_by_frictionless(written: Path, tmp_path: Path) -> None:
    table, change = BROKEN["a reference to no event"]
    descriptor = _changed(written, tmp_path / "broken", table, change)
    problems, dialects = _verified_beside(descriptor.parent)
    assert dialects is None
    assert problems == verified_package(descriptor, descriptor.parent, shown_in="build/current/")[0] != []


def test_only_a_build_of_fewer_records_than_the_bound_starts_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(package_verifier, "MOST_RECORDS", 10)
    assert PackageVerifier.started(10) is None
    verifier = PackageVerifier.started(9)
    assert verifier is not None and verifier.process is not None
    verifier.close()
    assert verifier.process is None


def wait_until_ignoring_ctrl_c(pid: int) -> None:
    """Until the process ignores SIGINT (/proc's SigIgn mask) or a minute has passed, whichever comes first."""
    for _ in range(600):
        ignored = next(line for line in Path(f"/proc/{pid}/status").read_text().splitlines() if line.startswith("SigIgn"))
        if int(ignored.split()[1], 16) & (1 << (signal.SIGINT - 1)):
            return
        time.sleep(0.1)


@pytest.mark.skipif(not Path("/proc/self/status").is_file(), reason="reads a process's signal mask from /proc")
def test_ctrl_c_in_the_terminal_is_left_to_the_build(written: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """The verifier shares the build's terminal: Ctrl-C there must not print its traceback (the build stops it)."""
    verifier = PackageVerifier.started(1)
    assert verifier is not None and verifier.process is not None
    try:
        wait_until_ignoring_ctrl_c(verifier.process.popen.pid)  # past its start-up, where Python's own handler is
        os.kill(verifier.process.popen.pid, signal.SIGINT)
        verifier.submit(written / "datapackage.json", written)
        for table in WRITTEN_ORDER:
            verifier.written(table)
        assert verifier.verified(written / "datapackage.json", written, shown_in="") == (
            [], fast_verdict(written / "datapackage.json", written))
    finally:
        verifier.close()
    assert "Traceback" not in capfd.readouterr().err


def test_a_process_that_cannot_start_leaves_the_work_to_the_build(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_process(*_: object, **__: object) -> None:
        raise OSError(errno.EAGAIN, "Resource temporarily unavailable")

    monkeypatch.setattr(subprocess, "Popen", no_process)
    assert SideProcess.started("pass", "a process") is None
    assert PackageVerifier.started(1) is None
    assert DatabaseJob().process is None
