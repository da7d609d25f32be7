"""Export, a process beside the build: a fresh Python that runs one module's `main`, is told its work in pickled
messages on its stdin, and answers with pickled (kind, value) pairs on its stdout.

A fresh process (not a fork) holds only what it makes, never a copy of the build's records, so that a large build
stays small in both; it starts while the build is busy, and works on the other core. The database process
(export/database.py) and the package's verifier (export/package_verifier.py) are such processes. `start_early`
starts one before the command that needs it imports the build, whose imports then overlap the process's start
(in a build after one change to the real dataset: 0.4 s instead of 0.6 s).
"""

from __future__ import annotations

import atexit
import os
import pickle
import subprocess
import sys
from collections.abc import Callable
from contextlib import suppress
from typing import IO, Any, BinaryIO

_EARLY: dict[str, SideProcess] = {}  # started by start_early, not yet taken by SideProcess.started


class SideProcess:
    """A fresh Python running `code`, with no work yet. `name` says what it is in errors ("the database process")."""

    def __init__(self, code: str, name: str) -> None:
        """Raises OSError when no process can be started (no memory, too many open files)."""
        self.name = name
        # -P: a module in the current folder is never imported in place of a library's
        self.popen: subprocess.Popen[bytes] = subprocess.Popen([sys.executable, "-P", "-c", code],
                                                               stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    @classmethod
    def started(cls, code: str, name: str) -> SideProcess | None:
        """The process, or None where none can be started here: the build then does its work itself. One that
        `start_early` started for `code` is taken, if it still runs."""
        early = _EARLY.pop(code, None)
        if early is not None:
            if early.popen.poll() is None:
                early.name = name
                return early
            early.close()
        if not sys.executable:  # an embedded interpreter may not know its executable
            return None
        try:
            return cls(code, name)
        except OSError:
            return None

    def send(self, message: Any) -> None:
        """Pickle `message` to it (a small one: the pipe takes it without waiting)."""
        stdin: IO[bytes] | None = self.popen.stdin
        if stdin is None:
            return
        try:
            pickle.dump(message, stdin)
            stdin.flush()
        except BrokenPipeError:  # it stopped early: its next answer says how
            pass

    def answer(self, expected: str) -> Any:
        """The value of its next answer, which must be of kind `expected`; an exception it sent is raised here, as
        if it had happened in the build. RuntimeError when it ended without an answer (killed, or out of memory)."""
        assert self.popen.stdout is not None
        try:
            kind, value = pickle.load(self.popen.stdout)
        except EOFError:
            raise RuntimeError(f"{self.name} ended with exit code {self.popen.wait()}") from None
        if kind == "error":
            raise value
        if kind != expected:
            raise RuntimeError(f"{self.name} said {kind!r} where {expected!r} was expected")
        return value

    def close(self) -> None:
        """Stop it if it still runs, and wait for it."""
        if self.popen.poll() is None:
            self.popen.kill()
        self.popen.wait()
        for stream in (self.popen.stdin, self.popen.stdout):
            if stream:
                with suppress(BrokenPipeError):  # what the build had written to a process that died early
                    stream.close()


def running(module: str) -> str:
    """The code of a side process that runs `module`'s `main`: by the module's name, so that the classes it sends
    are known by theirs (not as __main__'s), after it ignores Ctrl-C, which is the build's to handle (it stops the
    process): from the start, so that none prints a traceback while the process still imports."""
    return f"import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); from {module} import main; main()"


def start_early(code: str, name: str) -> None:
    """Start the process for `code` now, for the next `SideProcess.started(code, ...)` to take: a command starts it
    before its own imports, so that the process starts on the other core meanwhile, and stops it with `stop_early`
    if it was not taken (or else when this Python exits)."""
    if code not in _EARLY and (process := SideProcess.started(code, name)) is not None:
        _EARLY[code] = process


def stop_early(code: str) -> None:
    """Stop the process `start_early` started for `code`, if nothing took it."""
    process = _EARLY.pop(code, None)
    if process is not None:
        process.close()


@atexit.register
def _stop_untaken() -> None:
    while _EARLY:
        stop_early(next(iter(_EARLY)))


def answering() -> tuple[BinaryIO, Callable[[tuple[str, Any]], None]]:
    """In the side process: its stdin, and how it answers. Its stdout is kept for answers only (anything a library
    prints goes to stderr); an answer nobody reads any more (the build was killed) ends the process."""
    stdin = sys.stdin.buffer
    stdout: BinaryIO = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)

    def send(message: tuple[str, Any]) -> None:
        try:
            pickle.dump(message, stdout)
            stdout.flush()
        except BrokenPipeError:  # the build is gone: nobody to tell
            os._exit(1)

    return stdin, send
