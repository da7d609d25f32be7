"""Helpers for the build-stage tests: a small valid dataset, byte snapshots, and SQL dumps.

The dataset under tests/fixtures/valid/build-dataset/ (five records, both registries) is valid against the
five real source files and cites each of them, so the build tests do not depend on the real records.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from belarus_releases.layout import Layout

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "valid" / "build-dataset"


def use_fixture_dataset(layout: Layout) -> Layout:
    """Replace the records, registries and assertions of a repository copy with the build fixture dataset."""
    for part in ("records", "registry"):
        shutil.rmtree(layout.root / part, ignore_errors=True)
        shutil.copytree(FIXTURE / part, layout.root / part)
    shutil.copy(FIXTURE / "assertions.yml", layout.assertions)
    return layout


def copy_repository(layout: Layout, target: Path, *, with_build: bool) -> Layout:
    """A copy of a repository folder, with or without its build/ (whose build/current link is relative, so the copy
    is a repository of its own: builds write the same bytes wherever the folder is)."""
    def skipped(folder: str, names: list[str]) -> list[str]:
        return ["build"] if not with_build and Path(folder) == layout.root else []

    shutil.copytree(layout.root, target, symlinks=True, ignore=skipped)
    return Layout(target)


def fixture_data() -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """The fixture's records, people and sources as plain data (for tests that skip the checks)."""
    records = [yaml.safe_load(path.read_text(encoding="utf-8")) for path in sorted((FIXTURE / "records").glob("*.yml"))]
    people = yaml.safe_load((FIXTURE / "registry" / "people.yml").read_text(encoding="utf-8"))["people"]
    sources = yaml.safe_load((FIXTURE / "registry" / "sources.yml").read_text(encoding="utf-8"))["sources"]
    return records, people, sources


def record_path(layout: Layout, record_id: str) -> Path:
    return layout.records / f"{record_id}.yml"


def edit_record(layout: Layout, record_id: str, old: str, new: str) -> None:
    """Replace text in one record file (the text must be there)."""
    path = record_path(layout, record_id)
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} is not in {path.name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def nothing_built(layout: Layout) -> bool:
    """Whether build/ holds nothing but the check's cache (a failed check writes nothing else)."""
    return not layout.build.exists() or [path.name for path in layout.build.iterdir()] == ["cache"]


def snapshot(layout: Layout) -> dict[str, bytes]:
    """The bytes of every file the build may touch, by path: everything under build/ but the lock and the check's
    cache (hidden files too), where build/current points, and the committed files at the root that the build must
    never write."""
    files: dict[str, bytes] = {}
    if layout.build.exists():
        for path in sorted(layout.build.rglob("*")):
            if path == layout.cache or layout.cache in path.parents:
                continue
            if path.is_symlink():
                files[layout.relative(path)] = b"-> " + os.fsencode(os.readlink(path))
            elif path != layout.build_lock:
                files[layout.relative(path)] = path.read_bytes() if path.is_file() else b"<dir>"
    for path in (layout.datapackage, layout.readme):
        if path.exists():
            files[layout.relative(path)] = path.read_bytes()
    return files


def published(layout: Layout) -> dict[str, bytes]:
    """What a reader of build/current sees: each file's name and bytes (nothing before the first build)."""
    if not layout.current.is_dir():
        return {}
    return {path.name: path.read_bytes() for path in sorted(layout.current.iterdir())}


def dump(database: Path) -> list[str]:
    """The database as SQL statements (what `sqlite3 .dump` prints, via Python's iterdump)."""
    connection = sqlite3.connect(database)
    try:
        return list(connection.iterdump())
    finally:
        connection.close()


def at_once(monkeypatch: pytest.MonkeyPatch, module: Any, first: str, then: str) -> threading.Event:
    """Patch `module`'s functions so that `then` waits (10 s at most) until `first` has begun, and fails if it has
    not: a test that the two run at once, whichever starts first when they do. The event is set once `first` began."""
    begun = threading.Event()
    real_first, real_then = getattr(module, first), getattr(module, then)

    def beginning(*args: Any) -> Any:
        begun.set()
        return real_first(*args)

    def waiting(*args: Any) -> Any:
        assert begun.wait(10), f"{then} ran before {first} had begun"
        return real_then(*args)

    monkeypatch.setattr(module, first, beginning)
    monkeypatch.setattr(module, then, waiting)
    return begun
