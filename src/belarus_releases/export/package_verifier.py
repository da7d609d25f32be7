"""Export, the package's verifier: a process beside a full build that checks each table as soon as its files are
written (export/package_check.py's PackageCheck), so that the build no longer checks every table after writing
the last one. It imports Frictionless while the build still flattens the records.

Its answer is the fast verdict: the dialect of each table when the package is shown valid, or None when it is
not, and Frictionless then finds the errors and words them in the build (datapackage.py). A verifier that cannot
start, or ends without an answer, leaves the whole check to the build: the same verdict, later.

Measured at 10,000 records on two cores: the build used to write the tables' files (0.6 s), then check them
(1.3 s, a fifth of it importing Frictionless), while the database process filled the database beside it.
"""

from __future__ import annotations

import importlib
import os
import pickle
from collections.abc import Iterator
from contextlib import suppress
from pathlib import Path
from typing import BinaryIO, cast

from belarus_releases.export.datapackage import verified_package
from belarus_releases.export.package_check import Dialects, NotShown, checked_package, fast_verdict
from belarus_releases.export.side_process import SideProcess, answering, running
from belarus_releases.problems import Problem

SEPARATE_PROCESS = True
MOST_RECORDS = 50_000  # from this many records on, the build checks the package itself: see `started`
RUN = running("belarus_releases.export.package_verifier")
DONE = None  # told after the last table
ANSWER = "verdict"


class PackageVerifier:
    """The process, started with no work; then told where the package is, each table written, and the end."""

    def __init__(self, process: SideProcess) -> None:
        self.process: SideProcess | None = process

    @classmethod
    def started(cls, records: int) -> PackageVerifier | None:
        """A verifier for a build of `records` records; None where no process can be started, or for MOST_RECORDS
        records or more, whose build must stay under 1 GB with its database process: the build then checks the
        package itself."""
        if not SEPARATE_PROCESS or records >= MOST_RECORDS:
            return None
        process = SideProcess.started(RUN, "the package's verifier")
        return None if process is None else cls(process)

    def submit(self, descriptor: Path, basepath: Path) -> None:
        """The package's descriptor, written by now, and the folder its paths are relative to."""
        self._send((descriptor, basepath))

    def written(self, table: str) -> None:
        """The table's files are written: check it."""
        self._send(table)

    def verified(self, descriptor: Path, basepath: Path, *, shown_in: str) -> tuple[list[Problem], Dialects | None]:
        """As datapackage.verified_package: the package's problems, and the dialects when it was shown valid fast."""
        self._send(DONE)
        fast = fast_verdict  # reached here, when it ends without an answer
        if self.process is not None:
            with suppress(RuntimeError):
                answer: Dialects | None = self.process.answer(ANSWER)
                fast = lambda *_: answer  # noqa: E731  # the verdict it reached
        self.close()
        return verified_package(descriptor, basepath, shown_in=shown_in, fast=fast)

    def _send(self, message: object) -> None:
        if self.process is not None:
            self.process.send(message)

    def close(self) -> None:
        if self.process is not None:
            self.process.close()
            self.process = None


class BuildGone(BaseException):
    """The build stopped telling before DONE (it failed, or was killed): nobody waits for an answer. Not an
    Exception, so that no `except Exception` of the check takes it for a verdict."""


def verdict_of(told: Iterator[object]) -> Dialects | None:
    """The fast verdict on the package that `told` tells of (the descriptor's path and the base path, then each table's
    name as it is written): the dialect of each table, or None when it is not shown valid. Any other exception (a
    bug here) is raised: the verifier then ends without an answer, and the build checks the package itself."""
    from frictionless import FrictionlessException  # imported by main before the build tells anything

    descriptor, basepath = cast(tuple[Path, Path], next(told))  # as PackageVerifier.submit sends them
    try:
        return checked_package(descriptor, basepath, (str(table) for table in told))
    except (NotShown, FrictionlessException, OSError, ValueError):  # what fast_verdict takes for "not shown"
        for _ in told:  # every table is told all the same
            pass
        return None


def _told(stdin: BinaryIO) -> Iterator[object]:
    try:
        while (message := pickle.load(stdin)) is not DONE:
            yield message
    except EOFError:
        raise BuildGone from None


def main() -> None:
    """The verifier: what verdict_of reads, on stdin, then DONE; on stdout, the verdict."""
    stdin, send = answering()
    importlib.import_module("frictionless")  # now, while the build still flattens the records
    try:
        send((ANSWER, verdict_of(_told(stdin))))
    except BuildGone:
        return
    except Exception:  # a bug here, not a verdict: no answer, and the build checks the package itself
        os._exit(1)
