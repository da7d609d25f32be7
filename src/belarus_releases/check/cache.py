"""The check's cache, build/cache/check.marshal: what the check found in each record file, by the SHA-256 of the
file's bytes, so that checking a dataset again after one record changed reads and validates that record only.

Stored for each record file: its problems, whether it has the schema's shape, its data, and what the quote check found
for each of its quotes (with the SHA-256 of the source quoted). For each source document: its problems when read.
Once: the problems of the people registry's names, by the registry's content and its sources'. Only plain data is
stored (marshal), never positions: a cached record is read again only if a rule across files reports a problem on it.

The cache makes the check faster, never different: an entry is used only for the very bytes it was computed from, and
the whole file only by the same checker (its code, libraries and schemas, in `checker_key`). A cache that is missing,
unreadable, corrupt or from another version is ignored and written anew; one that cannot be written (a read-only
checkout) is left alone. Writes are atomic: a reader sees the old file or the new one.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import importlib.metadata
import marshal
import os
import sys
import tempfile
import unicodedata
import zlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NamedTuple

import yaml

import belarus_releases
from belarus_releases.check import yaml_reader
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem

FORMAT = 1  # raise whenever what is stored changes meaning
MAGIC = b"belarus-releases check cache\n"
FILE_NAME = "check.marshal"
# Libraries whose behaviour is part of what the check finds (parsing, schema messages, look-alike letters).
LIBRARIES = ("PyYAML", "jsonschema", "jsonschema-rs", "referencing", "jsonschema-specifications", "confusable-homoglyphs")
PACKAGE = Path(belarus_releases.__file__).parent
# The checker's code: every module of check/ and those it imports from the package.
CODE = ("check/*.py", "problems.py", "record.py", "layout.py", "__init__.py")

StoredProblem = tuple[str, int, int, str, str]
# A quote's result: the SHA-256 of the source it was looked for in; where it was found (the source's own text, or
# True when that is the quote's text itself), None when not found; and the problem's message when not found.
QuoteResult = tuple[bytes, str | bool | None, str | None]


class RecordEntry(NamedTuple):
    """What the check found in one record file with these bytes (`digest`)."""

    digest: bytes
    in_shape: bool
    read_problems: tuple[StoredProblem, ...]  # found while reading (the Loaded's problems)
    problems: tuple[StoredProblem, ...]  # every problem of the file check, those above included
    data: Any
    quotes: tuple[QuoteResult, ...] | None = None  # in the order of record.quotes; None until checked
    officials: tuple[Any, tuple[StoredProblem, ...]] | None = None  # by what else they depend on (officials.py)


def stored(problems: Iterable[Problem]) -> tuple[StoredProblem, ...]:
    return tuple((p.file, p.line, p.col, p.type, p.message) for p in problems)


def restored(problems: Iterable[StoredProblem]) -> tuple[Problem, ...]:
    return tuple(Problem(*problem) for problem in problems)


def file_digest(path: str) -> bytes | None:
    """The SHA-256 of a record file's bytes, or None when it is not to be cached: larger than the reader reads (it
    is refused unread) or unreadable (the reader reports that). `path` is a string: thousands of Paths cost more
    here than reading the files."""
    try:
        with open(path, "rb") as file:
            content = file.read(yaml_reader.MAX_BYTES + 1)
    except OSError:
        return None
    return hashlib.sha256(content).digest() if len(content) <= yaml_reader.MAX_BYTES else None


class CheckCache:
    """The entries read when a check starts, and those of this check, which `save` writes when it ends.

    Only what this check used is written again, so entries of deleted files and old versions do not pile up."""

    def __init__(self, path: Path | None, key: bytes = b"", old: dict[str, Any] | None = None) -> None:
        self.path = path
        self.key = key
        old = old or {}
        self._old_records: dict[str, tuple[Any, ...]] = old.get("records", {})
        self._old_sources: dict[str, tuple[Any, ...]] = old.get("sources", {})
        self._old_people: tuple[Any, ...] = old.get("people", ())
        self.records: dict[str, tuple[Any, ...]] = {}
        self.sources: dict[str, tuple[Any, ...]] = {}
        self.people: tuple[Any, ...] = ()
        self.changed = False

    @classmethod
    def off(cls) -> CheckCache:
        """A cache that finds nothing and stores nothing: the check as if there were none."""
        return cls(None)

    @classmethod
    def open(cls, layout: Layout) -> CheckCache:
        path = layout.cache / FILE_NAME
        try:
            key = checker_key(layout)
        except OSError:  # a schema went missing since it was checked: no cache for a checker we cannot name
            return cls.off()
        return cls(path, key, _read(path, key))

    @property
    def enabled(self) -> bool:
        return self.path is not None

    @property
    def schemas_valid(self) -> bool:
        """Whether the schemas are those of a cache written before, which is written only once they were checked."""
        return bool(self._old_records or self._old_sources or self._old_people)

    def file_key(self, path: str) -> bytes | None:
        return file_digest(path) if self.enabled else None

    def record(self, relative: str, digest: bytes | None) -> RecordEntry | None:
        entry = self._old_records.get(relative)
        if digest is None or entry is None or entry[0] != digest:
            return None
        self.records[relative] = entry
        return RecordEntry(*entry)

    def put_record(self, relative: str, entry: RecordEntry, path: str) -> None:
        """Keep what was found in a file, unless the file changed while it was checked (an editor saving): what was
        found in its new bytes must not be kept as what its old bytes hold."""
        if file_digest(path) == entry.digest:
            self.records[relative] = tuple(entry)
            self.changed = True

    def quotes(self, relative: str) -> tuple[QuoteResult, ...] | None:
        entry = self.records.get(relative)
        return entry[5] if entry else None

    def put_quotes(self, relative: str, results: tuple[QuoteResult, ...]) -> None:
        self._update(relative, 5, results)

    def officials(self, relative: str, key: Any) -> tuple[Problem, ...] | None:
        """The problems officials.py found in a record, when what they depend on besides it has the same `key`."""
        entry = self.records.get(relative)
        found = entry[6] if entry else None
        return restored(found[1]) if found and found[0] == key else None

    def put_officials(self, relative: str, key: Any, problems: Iterable[Problem]) -> None:
        self._update(relative, 6, (key, stored(problems)))

    def _update(self, relative: str, field: int, value: Any) -> None:
        """Set a field that a later stage finds of a record entry already kept."""
        entry = self.records.get(relative)
        if entry and entry[field] != value:
            self.records[relative] = (*entry[:field], value, *entry[field + 1:])
            self.changed = True

    def source(self, name: str, digest: bytes) -> tuple[Problem, ...] | None:
        """The problems of a source document with these bytes, as read before (None: not read before)."""
        entry = self._old_sources.get(name)
        if entry is None or entry[0] != digest:
            return None
        self.sources[name] = entry
        return restored(entry[1])

    def put_source(self, name: str, digest: bytes, problems: Iterable[Problem]) -> None:
        self.sources[name] = (digest, stored(problems))
        self.changed = True

    def people_problems(self, key: bytes) -> tuple[Problem, ...] | None:
        if not self._old_people or self._old_people[0] != key:
            return None
        self.people = self._old_people
        return restored(self._old_people[1])

    def put_people_problems(self, key: bytes, problems: Iterable[Problem]) -> None:
        self.people = (key, stored(problems))
        self.changed = True

    def save(self) -> None:
        """Write this check's entries when they differ from those read; a failure to write is not a problem."""
        unchanged = not self.changed and self.records.keys() == self._old_records.keys() \
            and self.sources.keys() == self._old_sources.keys() and self.people == self._old_people
        if self.path is None or unchanged:
            return
        payload = marshal.dumps((FORMAT, self.key, {"records": self.records, "sources": self.sources, "people": self.people}))
        _write(self.path, MAGIC + zlib.crc32(payload).to_bytes(4, "big") + payload)


def _write(path: Path, content: bytes) -> None:
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".check-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(content)
        os.replace(temporary, path)
    except OSError:  # read-only checkout, full disk: the next check runs without these entries, as this one might have
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)


def _read(path: Path, key: bytes) -> dict[str, Any]:
    """The stored entries, or none when the file is missing, damaged, or written by another checker."""
    try:
        content = path.read_bytes()
    except OSError:
        return {}
    payload = memoryview(content)[len(MAGIC) + 4:]
    if not content.startswith(MAGIC) or zlib.crc32(payload).to_bytes(4, "big") != content[len(MAGIC):len(MAGIC) + 4]:
        return {}
    try:
        with _no_garbage_collection():
            found = marshal.loads(payload)
            # Millions of objects that hold no reference cycle and live as long as the check: without this the
            # collector walks them all, again and again, for a third of a warm check's time. (It also leaves alone
            # what else the process holds now: module state, and any cycle not yet collected, a few bytes.)
            gc.freeze()
    except (ValueError, EOFError, TypeError):
        return {}
    if not (isinstance(found, tuple) and len(found) == 3 and found[:2] == (FORMAT, key) and isinstance(found[2], dict)):
        return {}
    return found[2]


@contextmanager
def _no_garbage_collection() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def checker_key(layout: Layout) -> bytes:
    """What the check's results depend on besides the files checked: its code and libraries, the parser in use,
    Python's Unicode tables, and the schemas."""
    digest = hashlib.sha256(_code_key())
    libyaml = getattr(getattr(yaml, "_yaml", None), "get_version_string", lambda: "absent")()
    digest.update(f"{yaml_reader.Loader!r} {libyaml}".encode())
    for path in sorted(layout.schemas.glob("*.schema.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


@functools.cache
def _code_key() -> bytes:
    digest = hashlib.sha256(repr((FORMAT, belarus_releases.__version__, sys.version, marshal.version,
                                  unicodedata.unidata_version, [_version(name) for name in LIBRARIES])).encode())
    for path in sorted(path for pattern in CODE for path in PACKAGE.glob(pattern)):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"
