"""The check's cache, build/cache/check-*.marshal: what the check found in each record file, by the SHA-256 of the
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

import gc
import hashlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from belarus_releases.check import yaml_reader
from belarus_releases.check.cache_files import (
    SHARDS,
    checker_key,
    file_name,
    no_garbage_collection,
    read_entries,
    shard_of,
    shared,
    write_entries,
)
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem

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
    quotes: Any = None  # what the quote check found, in the order of record.quotes (put_quotes); None until checked
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

    Record entries are spread over SHARDS files by path, so that after one record changed one file is written
    again, not all of them. Only what this check used is kept, so entries of deleted files do not pile up."""

    def __init__(self, folder: Path | None, key: bytes = b"", records: dict[str, tuple[Any, ...]] | None = None,
                 other: dict[str, Any] | None = None) -> None:
        self.folder = folder
        self.key = key
        self._old_records = records or {}
        other = other or {}
        self._old_sources: dict[str, tuple[Any, ...]] = other.get("sources", {})
        self._old_people: tuple[Any, ...] = other.get("people", ())
        self.records: dict[str, tuple[Any, ...]] = {}
        self.sources: dict[str, tuple[Any, ...]] = {}
        self.people: tuple[Any, ...] = ()
        self._changed: set[int] = set()  # the shards with an entry made or changed; SHARDS for the other file

    @classmethod
    def off(cls) -> CheckCache:
        """A cache that finds nothing and stores nothing: the check as if there were none."""
        return cls(None)

    @classmethod
    def open(cls, layout: Layout) -> CheckCache:
        try:
            key = checker_key(layout)
        except OSError:  # a schema went missing since it was checked: no cache for a checker we cannot name
            return cls.off()
        records: dict[str, tuple[Any, ...]] = {}
        with no_garbage_collection():
            for shard in range(SHARDS):
                records.update(read_entries(layout.cache / file_name(shard), key))
            other = read_entries(layout.cache / file_name(SHARDS), key)
            # Millions of objects that hold no reference cycle and live as long as the check: without this the
            # collector walks them all, again and again, for a third of a warm check's time. (It also leaves alone
            # what else the process holds now: module state, and any cycle not yet collected, a few bytes.)
            gc.freeze()
        return cls(layout.cache, key, records, other)

    @property
    def enabled(self) -> bool:
        return self.folder is not None

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
            self._changed.add(shard_of(relative))

    def quotes(self, relative: str) -> tuple[QuoteResult, ...] | None:
        entry = self.records.get(relative)
        if not entry or entry[5] is None:
            return None
        digests, found, messages = entry[5]
        count = len(digests)
        return tuple(zip(digests, (True,) * count if found is True else found, messages or (None,) * count, strict=True))

    def put_quotes(self, relative: str, results: tuple[QuoteResult, ...]) -> None:
        # Kept as three columns, the usual case (every quote found as written, no message) in two small objects:
        # a tuple for each quote would be a tenth of the memory a large dataset's check takes.
        digests, found, messages = (tuple(column) for column in zip(*results, strict=True)) if results else ((), (), ())
        self._update(relative, 5, (digests, True if all(f is True for f in found) else found,
                                   None if all(m is None for m in messages) else messages))

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
            self._changed.add(shard_of(relative))

    def source(self, name: str, digest: bytes) -> tuple[Problem, ...] | None:
        """The problems of a source document with these bytes, as read before (None: not read before)."""
        entry = self._old_sources.get(name)
        if entry is None or entry[0] != digest:
            return None
        self.sources[name] = entry
        return restored(entry[1])

    def put_source(self, name: str, digest: bytes, problems: Iterable[Problem]) -> None:
        self.sources[name] = (digest, stored(problems))
        self._changed.add(SHARDS)

    def people_problems(self, key: bytes) -> tuple[Problem, ...] | None:
        if not self._old_people or self._old_people[0] != key:
            return None
        self.people = self._old_people
        return restored(self._old_people[1])

    def put_people_problems(self, key: bytes, problems: Iterable[Problem]) -> None:
        self.people = (key, stored(problems))
        self._changed.add(SHARDS)

    def save(self) -> None:
        """Write each file whose entries differ from those read; a failure to write is not a problem."""
        if self.folder is None:
            return
        new: list[dict[str, Any]] = [{} for _ in range(SHARDS)]
        old: list[set[str]] = [set() for _ in range(SHARDS)]
        for relative, entry in self.records.items():
            new[shard_of(relative)][relative] = entry
        for relative in self._old_records:
            old[shard_of(relative)].add(relative)
        for shard in range(SHARDS):
            if shard in self._changed or new[shard].keys() != old[shard]:  # made, changed or no longer used
                entries = {relative: (*entry[:4], shared(entry[4]), *entry[5:]) for relative, entry in new[shard].items()}
                write_entries(self.folder / file_name(shard), self.key, entries)
        if SHARDS in self._changed or self.sources.keys() != self._old_sources.keys() or self.people != self._old_people:
            write_entries(self.folder / file_name(SHARDS), self.key, {"sources": self.sources, "people": self.people})
