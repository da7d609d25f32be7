"""Check, one file at a time: read, load and validate one file, the unit of work that is spread over the cores and
kept in the cache.

A file's check is made compact where it is made (in a worker, when spread): its problems as plain tuples and its
data as marshal bytes, with the SHA-256 of the very bytes that were read and validated. So what a worker sends back,
and what the cache stores, is a few small objects per file, and the cache never keys a result by bytes other than
those it was computed from (a file saved again while it was checked is checked anew next time).
"""

from __future__ import annotations

import hashlib
import marshal
import os
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from belarus_releases.check.cache import Stat, StoredProblem, restored, stat_key, stored
from belarus_releases.check.schema import schema_validator, schema_verdict, validate_loaded
from belarus_releases.check.yaml_reader import NO_POSITIONS, Loaded, load_read, read_file
from belarus_releases.layout import Layout
from belarus_releases.memory import no_garbage_collection
from belarus_releases.problems import Problem

T = TypeVar("T")


def internal_error(file: str, error: BaseException) -> Problem:
    """The last resort: a bug in the checker, reported on the file being checked instead of as a traceback."""
    return Problem(file, 1, 1, "internal-error",
                   f"the checker failed on this file ({type(error).__name__}); please report this, attaching the file")


class ChangedWhileChecked(Exception):
    """A file read when first needed had other bytes than those the check knew it by (its status stood for them):
    changed while the check ran. Reported as `problem`."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def guarded(file: str, stage: Callable[[], T], failed: Callable[[Problem], T]) -> T:
    """Run one stage; an unexpected exception becomes one located problem, which `failed` makes the stage's result."""
    try:
        return stage()
    except ChangedWhileChecked as changed:
        return failed(changed.problem)
    except (Exception, RecursionError) as error:
        return failed(internal_error(file, error))


@dataclass(frozen=True, slots=True)  # slots: one for each of 100,000 records is held at once
class FileCheck:
    """One file read and validated: what was read, every problem of both steps, and whether it is in shape."""

    loaded: Loaded
    problems: tuple[Problem, ...]
    in_shape: bool = False


class Compact(NamedTuple):
    """One file's check as plain data (what workers send back and the cache keeps); `restore` makes it a FileCheck."""

    file: str
    in_shape: bool
    read_problems: tuple[StoredProblem, ...]  # found while reading (the Loaded's problems)
    problems: tuple[StoredProblem, ...]  # every problem of the file check, those above included
    blob: bytes | None  # the data, marshalled; None when the file holds no usable data
    digest: bytes | None  # SHA-256 of the bytes checked; None when the result is not to be kept
    stat: Stat | None  # the file's status when it was read, when it can stand for its bytes (cache.stat_key)


def check_file(layout: Layout, relative: str, schema: str) -> FileCheck:
    """Load one file and validate it against one schema, keeping every position (the reference path).

    A file the checker fails on comes back without data, so no later rule reads it."""
    return guarded(relative, lambda: _validated(layout, read_file(os.path.join(layout.root, relative)), relative, schema),
                   failed_check)


def failed_check(problem: Problem) -> FileCheck:
    """A file the checker failed on: its one problem, and no data, so that no later rule reads it."""
    return FileCheck(Loaded(problem.file), (problem,))


def check_compact(layout: Layout, relative: str, schema: str, now: int) -> Compact:
    """What `check_file` finds, compact, with the digest of the bytes checked and the file's status before they
    were read (so a file changed meanwhile has a status that no longer matches: it is hashed again next time)."""
    def stage() -> Compact:
        path = os.path.join(layout.root, relative)
        status = os.stat(path)
        raw = read_file(path)
        checked = _validated(layout, raw, relative, schema, quick=True)
        data = checked.loaded.data
        return Compact(relative, checked.in_shape, stored(checked.loaded.problems), stored(checked.problems),
                       None if data is None else marshal.dumps(data),
                       hashlib.sha256(raw).digest() if isinstance(raw, bytes) else None, stat_key(status, now))

    # a checker failure may not happen again (it might be the memory or the disk), so it is not to be kept
    return guarded(relative, stage, lambda problem: Compact(relative, False, (), stored([problem]), None, None, None))


def restore(compact: Compact, root: Path) -> FileCheck:
    """A compact check as a FileCheck holding no positions: a rule that asks where something stands has the file
    read again from under `root` (Loaded.position)."""
    data = None if compact.blob is None else decoded(compact.blob)
    loaded = Loaded(compact.file, data, NO_POSITIONS, NO_POSITIONS, NO_POSITIONS, restored(compact.read_problems), root)
    return FileCheck(loaded, restored(compact.problems), compact.in_shape)


def decoded(blob: bytes) -> Any:
    """Marshalled data, decoded without the garbage collector: its objects hold no cycle, and a collection
    started by their making would walk every object the process holds (decoding took twice as long with it)."""
    with no_garbage_collection():
        return marshal.loads(blob)


_COMPARED = tuple(field.name for field in fields(Loaded) if field.compare)


class _DecodedWhenRead:
    """The `data` of an Undecoded: its marshalled bytes decoded the first time it is read, then kept (the bytes let
    go). Whatever is set (by `replace`) is kept as it is."""

    def __get__(self, loaded: Loaded | None, owner: type | None = None) -> Any:
        if loaded is None:
            return self
        held = loaded.__dict__
        blob = held.get("_blob")
        if blob is None:  # (decoded, or set)
            return held["data"]
        data = held.setdefault("data", decoded(blob))  # two threads decoding at once both get the first's data
        held.pop("_blob", None)
        return data

    def __set__(self, loaded: Loaded, value: Any) -> None:
        loaded.__dict__["data"] = value


class Undecoded(Loaded):
    """A record as the check's cache keeps it: its data decoded only if something reads it (after a few changes,
    nothing but the changed records' is: the rules across records read their `references`, kept beside it)."""

    data = _DecodedWhenRead()

    def __eq__(self, other: object) -> bool:  # equal to the Loaded it stands for, as a Loaded compares
        if not isinstance(other, Loaded):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name in _COMPARED)

    __hash__ = Loaded.__hash__

    @classmethod
    def of(cls, file: str, blob: bytes, references: Any, problems: tuple[Problem, ...], root: Path) -> Undecoded:
        # the fields set as the dataclass's __init__ sets them, in a third of its time (10,000 records each check)
        loaded = object.__new__(cls)
        loaded.__dict__.update(file=file, _blob=blob, values=NO_POSITIONS, keys=NO_POSITIONS, ends=NO_POSITIONS,
                               problems=problems, root=root, references=references)
        return loaded


@lru_cache(maxsize=16)
def _schema_path(layout: Layout, schema: str) -> Path:
    return layout.schema(schema)  # once, not once a file: making a Path costs a twentieth of a small record's check


def _validated(layout: Layout, raw: bytes | int, relative: str, schema: str, *, quick: bool = False) -> FileCheck:
    loaded = load_read(raw, relative, quick=quick)
    path = _schema_path(layout, schema)
    validated = validate_loaded(loaded, schema_validator(path), is_record=schema == "record", valid=schema_verdict(path))
    return FileCheck(loaded, loaded.problems + validated.problems, validated.in_shape)
