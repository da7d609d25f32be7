"""Helpers for the publishing tests: releases with known bytes, failure injection at every step, leftovers.

The releases here hold the file names a real build publishes, with small known contents, so that publishing
takes exactly the steps it takes for a real build, in milliseconds. `publish_forever` runs in a subprocess
that the kill -9 test kills (it is imported there from this folder).
"""

from __future__ import annotations

import errno
import itertools
import os
import shutil
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from belarus_releases.export import publish as publish_module
from belarus_releases.export.publish import AHEAD_PREFIX, LINK_PREFIX, STAGING_PREFIX, Stage, release
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES

NAMES = sorted([f"{table.name}.{ext}" for table in TABLES for ext in ("csv", "json")]
               + ["belarus-releases.db", "datapackage.json", "overview.md"])
# The filesystem calls through which export/publish.py changes anything (it never uses pathlib to do so).
STEPS = {os: ("makedirs", "rename", "replace", "symlink", "unlink", "chmod", "fsync"), shutil: ("rmtree",)}


def contents(version: str) -> dict[str, bytes]:
    """Every file of one release, each naming the version and itself, so that any mix shows."""
    return {name: f"{version}: {name}\n".encode() * 20 for name in NAMES}


def staged(files: dict[str, bytes]) -> Stage:
    """A stage that writes `files` and finds no problem."""
    def write(folder: Path) -> list[Problem]:
        for name, data in files.items():
            (folder / name).write_bytes(data)
        return []

    return write


def readable(layout: Layout) -> dict[str, bytes]:
    """What a reader of build/current sees, the database as its SQL dump (its bytes differ between equal builds)."""
    if not layout.current.is_dir():
        return {}
    return {path.name: _dump(path) if path.suffix == ".db" and _is_sqlite(path) else path.read_bytes()
            for path in sorted(layout.current.iterdir())}


def _is_sqlite(path: Path) -> bool:
    return path.read_bytes()[:16] == b"SQLite format 3\x00"


def _dump(path: Path) -> bytes:
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        return "\n".join(connection.iterdump()).encode()
    finally:
        connection.close()


def leftovers(layout: Layout) -> list[str]:
    """Anything a finished build should not leave: staging folders, half-made links, tables made ahead, more than two
    releases."""
    found = [name for name in os.listdir(layout.build) if name.startswith((STAGING_PREFIX, LINK_PREFIX, AHEAD_PREFIX))]
    releases = sorted(os.listdir(layout.releases)) if layout.releases.is_dir() else []
    return found + (releases if len(releases) > 2 else [])


class Crash(BaseException):
    """The process dies at this step: not an exception the build can handle, and nothing after it runs."""


class Injector:
    """Counts the publishing steps and fails one of them, before or after it runs, with an error or a crash."""

    def __init__(self, fail_at: int | None = None, after: bool = False, crash: bool = False) -> None:
        self.fail_at, self.after, self.crash = fail_at, after, crash
        self.steps: list[str] = []
        self.dead = False

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            if self.dead:
                raise Crash(f"already dead: {name}")  # a dead process does nothing more, not even clean-up
            self.steps.append(name)
            failing = len(self.steps) == self.fail_at
            if failing and not self.after:
                self._fail(name)
            result = function(*args, **kwargs)
            if failing and self.after:
                self._fail(name)
            return result

        return step

    def _fail(self, name: str) -> None:
        if self.crash:
            self.dead = True
            raise Crash(name)
        raise OSError(errno.EIO, f"injected failure {'after' if self.after else 'before'} {name}")


class _Through:
    """A module whose step functions go through an injector; everything else is the module itself."""

    def __init__(self, module: ModuleType, injector: Injector) -> None:
        self._module, self._injector, self._steps = module, injector, STEPS[module]

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._module, name)
        return self._injector.wrap(name, value) if name in self._steps else value


def injected(injector: Injector) -> dict[str, _Through]:
    """What to monkeypatch into export/publish.py: its `os` and `shutil`, through `injector`."""
    assert publish_module.os is os and publish_module.shutil is shutil
    return {"os": _Through(os, injector), "shutil": _Through(shutil, injector)}


def publish_forever(root: str) -> None:
    """Publish releases A and B in turn until killed (run in the subprocess of the kill -9 test)."""
    layout = Layout(Path(root))
    stages = {version: staged(contents(version)) for version in "AB"}
    print("ready", flush=True)
    for number in itertools.count():
        problems, _ = release(layout, stages["AB"[number % 2]])
        assert not problems, problems


if __name__ == "__main__":
    publish_forever(sys.argv[1])
