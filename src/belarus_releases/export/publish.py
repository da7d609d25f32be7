"""Export, publish: each build is a release folder, and one symbolic link, build/current, names the live one.

    build/.lock                                 held (flock) by the running build; never deleted
    build/.staging-XXXXXXXX/                    a build being written and verified; no reader looks here
    build/.ahead-PID-XXXXXXXX.db                tables made ahead of a rebuild, taken into its release or removed
    build/releases/000007-20251126T170412Z/     every output of one build: a self-contained Data Package
    build/current -> releases/000007-20251126T170412Z

Publishing is one rename(2) of a new link over build/current (Capistrano's releases and `current`), so
whoever opens build/current/<file> gets a file of the old build or of the new one, and every file of the
same build, whatever happens to this process: an exception, a full disk, kill -9, a power cut after the
final fsync. A reader that reads several files and needs them from one build resolves build/current once
and reads from the folder it names. The release before the live one is kept for a rollback; older ones, and
whatever a killed build left, are removed by the next build, under the lock.

Every filesystem change here goes through `os` and `shutil` (never pathlib), so that the crash-injection
tests (tests/test_publish.py) see, and can fail, each step.
"""

from __future__ import annotations

import errno
import fcntl
import os
import re
import secrets
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing, contextmanager
from pathlib import Path

from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES

STAGING_PREFIX = ".staging-"
LINK_PREFIX = ".current-"
AHEAD_PREFIX = ".ahead-"  # tables a build's database process made ahead (export/database_job.py's Ahead), then
AHEAD_NAME = re.compile(re.escape(AHEAD_PREFIX) + r"(\d+)-[0-9a-f]+\.db")  # the build's process id, and a token
RELEASE_NAME = re.compile(r"(\d{6,})-\d{8}T\d{6}Z")
UNCHANGED = "nothing was published: build/current is as it was"
FSYNC_THREADS = 16  # fsyncs at once: the filesystem commits them together (5x quicker for a release's ~900 files)

Stage = Callable[[Path], list[Problem]]
"""Writes every output into the folder it is given and verifies them there; returns the problems found."""


class BuildLocked(Exception):
    """Another build holds build/.lock."""


def release(layout: Layout, stage: Stage) -> tuple[list[Problem], Path | None]:
    """Under the build lock: remove leftovers, let `stage` fill a fresh folder, and publish it if `stage` found
    no problem. Returns the problems and the new release folder (None when nothing was published).

    Any OS or SQLite error becomes one build-failed problem on the path involved; it never escapes."""
    try:
        with build_lock(layout):
            remove_leftovers(layout)
            problems, published = _stage_and_publish(layout, stage)
            if published:
                remove_leftovers(layout)
            return problems, published
    except BuildLocked as error:
        return [Problem(layout.relative(layout.build_lock), 0, 0, "build-failed", str(error))], None
    except OSError as error:  # of a rename, the target is the path people know (build/current, not .current-123)
        return [_failed(layout, error.filename2 or error.filename, _reason(error))], None


def _stage_and_publish(layout: Layout, stage: Stage) -> tuple[list[Problem], Path | None]:
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=layout.build))
    try:
        problems = stage(staging)
        return problems, (None if problems else publish(layout, staging))
    except sqlite3.Error as error:  # a full disk while SQLite writes: the database is the only SQLite file written
        return [_failed(layout, staging / layout.database.name, f"SQLite: {error}")], None
    except OSError:
        raise  # located by `release`, on the path the system names
    except Exception as error:  # a bug in a writer: one located problem, never a traceback; nothing was published
        return [Problem(layout.relative(layout.build), 0, 0, "internal-error",
                        f"the build failed while writing its outputs ({type(error).__name__}); please report this; "
                        f"{UNCHANGED}")], None
    finally:
        _remove(staging)  # already gone once published: it became the release


def _reason(error: OSError) -> str:
    """What the system said, with its error name: "No space left on device (ENOSPC)"."""
    if not error.strerror:
        return f"{type(error).__name__}: {error}"
    return f"{error.strerror} ({errno.errorcode.get(error.errno or 0, type(error).__name__)})"


def _failed(layout: Layout, path: str | bytes | Path | None, what: str) -> Problem:
    where = Path(os.fsdecode(path)) if path else layout.build
    shown = layout.relative(where) if where.is_relative_to(layout.root) else where.as_posix()
    return Problem(shown, 0, 0, "build-failed", f"the build failed here: {what}; {UNCHANGED}")


def publish(layout: Layout, staging: Path) -> Path:
    """Make the verified folder `staging` the live release, switching build/current with one rename; return it.

    Raises OSError when build/current was not switched; it is then as it was, and the new release is removed."""
    live = live_release(layout)
    # on disk before any name points at them; a file linked from the live release was when that one was published
    _fsync_all([staging / name for name in sorted(os.listdir(staging)) if not _published_in(live, staging / name)])
    os.chmod(staging, 0o755)  # mkdtemp made it private; a release is read by the web server and by other users
    fsync(staging)
    os.makedirs(layout.releases, exist_ok=True)
    new = layout.releases / _next_name(layout.releases)
    try:
        os.rename(staging, new)
        fsync(layout.releases)
        _switch(layout, new)
    except OSError:
        if live_release(layout) == new:
            return new  # switched: only making the switch durable failed, and readers already see the new release
        _remove(_link(layout))
        _remove(new)
        raise
    return new


def _published_in(release: Path | None, path: Path) -> bool:
    """Whether `path` is the file of its name in `release` (a link to it): its bytes were made durable when
    `release` was published, and its new name is with the fsync of the folder that holds it."""
    try:
        return release is not None and os.path.samefile(path, release / path.name)
    except OSError:
        return False


def _switch(layout: Layout, release: Path) -> None:
    """Point build/current at `release`: make the new link beside it, then rename it over the old one."""
    link = _link(layout)
    if os.path.lexists(link):  # left by a killed build that had the same pid
        os.unlink(link)
    os.symlink(os.path.relpath(release, layout.build), link)  # relative, so build/ can be moved or mounted elsewhere
    os.replace(link, layout.current)  # the one step that publishes
    fsync(layout.build)  # so that the switch survives a power cut


def _link(layout: Layout) -> Path:
    return layout.build / f"{LINK_PREFIX}{os.getpid()}"


def live_release(layout: Layout) -> Path | None:
    """The release folder that build/current names, or None (before the first build)."""
    try:
        target = os.readlink(layout.current)
    except OSError:
        return None
    return Path(os.path.normpath(layout.build / target))


def rollback(layout: Layout) -> Path | None:
    """Point build/current back at the release before the live one, with the same one rename; return it."""
    with build_lock(layout):
        previous = _previous(layout, live_release(layout))
        if previous is not None:
            _switch(layout, previous)
        return previous


@contextmanager
def build_lock(layout: Layout) -> Iterator[None]:
    """Hold build/.lock for the block; raise BuildLocked at once if another build holds it.

    Not waiting: builds take seconds, so a second one started by mistake (two terminals, a script) is told
    at once and run again, rather than hanging a terminal or CI behind a build that may itself be stuck.
    The kernel releases a flock when its holder dies, even by kill -9, so the lock is never stale. The file
    is never deleted: a build that opened it just before a deletion would lock a file the next build cannot see."""
    os.makedirs(layout.build, exist_ok=True)
    descriptor = os.open(layout.build_lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(descriptor, 32, 0).decode("ascii", "replace").strip() or "unknown"
            raise BuildLocked(f"another build (pid {holder}) is running; run this build again when it has finished; "
                              "nothing was changed") from None
        os.ftruncate(descriptor, 0)
        os.pwrite(descriptor, f"{os.getpid()}\n".encode("ascii"), 0)
        yield
    finally:
        os.close(descriptor)


def remove_leftovers(layout: Layout) -> None:
    """Remove what killed builds left (staging folders, half-made links, tables made ahead by a build whose process
    has ended: one still checking its dataset, without the lock, keeps its own) and every release but the live one
    and the one before it. Called only under the lock, so no build is using what goes; a reader that has a file of a
    removed release open keeps reading it. What cannot be removed now is tried again by the next build."""
    try:
        names = os.listdir(layout.build)
        live = live_release(layout)
        kept = {live, _previous(layout, live)}
        stale = [path for path in _releases(layout) if path not in kept]  # and those a killed build never switched to
    except OSError:
        return
    for name in names:
        if name.startswith((STAGING_PREFIX, LINK_PREFIX)) or _made_ahead_by_a_build_gone(name):
            _remove(layout.build / name)
    for path in stale:
        _remove(path)
    if live is not None:
        for name in _flat_outputs(layout):  # what builds before releases wrote straight into build/
            _remove(layout.build / name)


def ahead_path(layout: Layout) -> Path:
    """Where this build's database process makes tables ahead (export/database_job.py's Ahead): named for this
    process (AHEAD_NAME), so that the leftover of a build that ended is known."""
    return layout.build / f"{AHEAD_PREFIX}{os.getpid()}-{secrets.token_hex(4)}.db"


def _made_ahead_by_a_build_gone(name: str) -> bool:
    """Whether `name` holds tables made ahead by a build whose process has ended (not by one still checking)."""
    found = AHEAD_NAME.fullmatch(name)
    if found is None:
        return False
    try:
        os.kill(int(found.group(1)), 0)  # no signal sent: whether the process is there
    except ProcessLookupError:
        return True
    except (OSError, OverflowError):  # another user's process (EPERM), or no process id at all
        return False
    return False


def _previous(layout: Layout, live: Path | None) -> Path | None:
    """The newest release older than `live` (the newest of all when nothing is live): the one to roll back to."""
    older = [path for path in _releases(layout) if live is None or _number(path) < _number(live)]
    return older[-1] if older else None


def _flat_outputs(layout: Layout) -> list[str]:
    names = [f"{table.name}.{ext}" for table in TABLES for ext in ("csv", "json")] + [layout.database.name]
    return [name for name in names if os.path.isfile(layout.build / name) and not os.path.islink(layout.build / name)]


def _releases(layout: Layout) -> list[Path]:
    """The release folders, oldest first."""
    if not os.path.isdir(layout.releases):
        return []
    return sorted((layout.releases / name for name in os.listdir(layout.releases) if RELEASE_NAME.fullmatch(name)),
                  key=_number)


def _number(path: Path) -> int:
    found = RELEASE_NAME.fullmatch(path.name)
    return int(found.group(1)) if found else -1


def _next_name(releases: Path) -> str:
    """One more than the highest release number, so the order does not depend on the clock; the time is for people."""
    numbers = [int(found.group(1)) for name in os.listdir(releases) if (found := RELEASE_NAME.fullmatch(name))]
    return f"{max(numbers, default=0) + 1:06d}-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}"


def _remove(path: Path) -> None:
    """Remove a file, link or folder if it is there; errors are left for the next build to retry."""
    try:
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.unlink(path)
    except OSError:
        pass


class EarlySync:
    """Files made durable in threads (fsync lets go of the GIL), each once: a full build's as soon as they are final,
    while it works on; then `publish` fsyncs every new file of the release again, and finds little left to write (the
    system keeps hundreds of megabytes unwritten for half a minute: at 100,000 records the release's 800 MB were
    written out only there). Close it in any case."""

    def __init__(self) -> None:
        self.pool = ThreadPoolExecutor(FSYNC_THREADS)
        self.started: dict[Path, Future[None]] = {}

    def add(self, paths: Iterable[Path]) -> None:
        """Start making these files durable (each once)."""
        for path in paths:
            if path not in self.started:
                self.started[path] = self.pool.submit(fsync, path)

    def wait(self) -> None:
        """Return once every file added is durable; raises the first error (a failed fsync fails the build)."""
        for done in self.started.values():
            done.result()

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _fsync_all(paths: list[Path]) -> None:
    """fsync every file, several at once; returns when all are done, raising the first error (in path order)."""
    with closing(EarlySync()) as syncing:
        syncing.add(paths)
        syncing.wait()


def fsync(path: Path) -> None:
    """Make the file or folder at `path` durable; an error names it."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    except OSError as error:  # fsync's error names no file: the build reports it on this one
        raise OSError(error.errno, error.strerror, os.fspath(path)) from error
    finally:
        os.close(descriptor)
