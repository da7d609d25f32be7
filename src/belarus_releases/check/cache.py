"""The check's cache, build/cache/check.marshal (and the changes made since: cache_files.py): what the check found
in each record file, by the SHA-256 of the file's bytes, so that checking a dataset again after one record changed
reads and validates that record only, and writes only its entry.

Stored for each record file: its problems, whether it has the schema's shape, its data (marshalled on its own, so
that a record whose data nothing reads is never decoded), what the rules across records read of it (its
references: id, links, people and sources named), what the quote check
found for each of its quotes (with the SHA-256 of the source quoted), the problems of the rule on officials, and
the context those two rules last ran on it in (the SHA-256 of each source it cites, and of the people's name
forms): a record whose quotes were all found as written, in the same context, is not walked by them again. For
each source document: its SHA-256, its problems when read, and its status (the sources' bytes are then read only
for the quotes looked for in them). Once: the problems of the people registry's names, by the
registry's content and its sources'. Only plain data is stored (marshal), never positions: a cached record is
read again only if a rule across files reports a problem on it.

The cache makes the check faster, never different: an entry is used only for the very bytes it was computed from, and
the whole file only by the same checker (its code, libraries and schemas, in `checker_key`). A file's bytes are
known without reading them when its status (inode, size, modification and change times) is the one they had when
hashed; any other status (a git checkout, a copy, an edit) has the file hashed again, so a status can only make a
file be read, never stand for bytes it did not have (`stat_key` says when a status is trusted at all). A cache that
is missing, unreadable, corrupt or from another version is ignored and written anew; one that cannot be written (a
read-only checkout) is left alone. Writes are atomic: a reader sees the old file or the new one.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any, NamedTuple

from belarus_releases.check import yaml_reader
from belarus_releases.check.cache_files import (
    CACHE_FILE,
    CHANGES_FILE,
    checker_key,
    read_entries,
    write_changes,
    write_entries,
)
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.layout import Layout
from belarus_releases.memory import lasting_objects, no_garbage_collection
from belarus_releases.problems import Problem
from belarus_releases.record import data_references

StoredProblem = tuple[str, int, int, str, str]
Stat = tuple[int, int, int, int]  # inode, size, modification and change times (ns)
# A quote's result: the SHA-256 of the source it was looked for in; where it was found (the source's own text, or
# True when that is the quote's text itself), None when not found; and the problem's message when not found.
QuoteResult = tuple[bytes, str | bool | None, str | None]
# A status is trusted only for a file unchanged this long before the check started. Timestamps advance in ticks
# (a few milliseconds; two seconds on some file systems), so a file written again within the tick of its status
# could keep it; a file older than this cannot (its next write has a later time). Git's "racy" rule, in short.
SETTLED_NS = 3_000_000_000
# The changes of a check are written on their own (cache_files.CHANGES_FILE) while they are at most one entry in
# this many; more, and every entry is written again, as a new generation.
FEW_CHANGES = 16


class RecordEntry(NamedTuple):
    """What the check found in one record file with these bytes (`digest`)."""

    digest: bytes
    in_shape: bool
    read_problems: tuple[StoredProblem, ...]  # found while reading (the Loaded's problems)
    problems: tuple[StoredProblem, ...]  # every problem of the file check, those above included
    data: Any  # the file's data, marshalled (until saved, what was loaded of a file checked now: a Loaded)
    quotes: Any = None  # what the quote check found, in the order of record.quotes (put_quotes); None until checked
    officials: tuple[Any, tuple[StoredProblem, ...]] | None = None  # by what else they depend on (officials.py)
    stat: Stat | None = None  # the file's status when these bytes were read, when trusted (stat_key)
    settled_in: Any = None  # the context the quote and official rules last both ran on it in (`settled`)
    # what the rules across records read of a record (record.References), when in shape (until saved, for a file
    # checked now: whether it is such a record)
    references: Any = None


DATA, QUOTES, OFFICIALS, STAT, SETTLED_IN, REFERENCES = (
    RecordEntry._fields.index(name) for name in ("data", "quotes", "officials", "stat", "settled_in", "references"))


def _with(entry: tuple[Any, ...], field: int, value: Any) -> tuple[Any, ...]:
    """The entry with `value` in place of its `field`."""
    return (*entry[:field], value, *entry[field + 1:])


def stored(problems: Iterable[Problem]) -> tuple[StoredProblem, ...]:
    return tuple((p.file, p.line, p.col, p.type, p.message) for p in problems)


def restored(problems: Iterable[StoredProblem]) -> tuple[Problem, ...]:
    return tuple(Problem(*problem) for problem in problems) if problems else ()  # (nearly every record: none)


def stat_key(status: os.stat_result, now: int) -> Stat | None:
    """A file's status as a key for its bytes, or None when it may not stand for them: changed too recently
    (SETTLED_NS before `now`, the time the check started) to be sure that a later write changes it."""
    if max(status.st_mtime_ns, status.st_ctime_ns) >= now - SETTLED_NS:
        return None
    return status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns


def file_digest(path: str) -> bytes | None:
    """The SHA-256 of a record file's bytes, or None when it is not to be cached: larger than the reader reads (it
    is refused unread) or unreadable (the reader reports that). `path` is a string: thousands of Paths cost more
    here than reading the files."""
    try:
        content = yaml_reader.read_file(path)
    except OSError:
        return None
    return hashlib.sha256(content).digest() if isinstance(content, bytes) else None


class CheckCache:
    """The entries read when a check starts, and those of this check, which `save` writes when it ends.

    Only what this check used is kept, so entries of deleted files do not pile up."""

    def __init__(self, folder: Path | None, key: bytes = b"", found: dict[str, Any] | None = None) -> None:
        self.folder = folder
        self.key = key
        self.now = time.time_ns()
        found = found or {}
        self._generation: bytes | None = found.get("generation")
        self._written: dict[str, tuple[Any, ...]] = found.get("records", {})  # as CACHE_FILE has them
        self._old_records = self._written
        if found.get("changed") or found.get("dropped"):
            self._old_records = {**self._written, **found["changed"]}
            for name in found["dropped"]:
                self._old_records.pop(name, None)
        self._old_sources: dict[str, tuple[Any, ...]] = found.get("sources", {})
        self._old_people: tuple[Any, ...] = found.get("people", ())
        self.records: dict[str, tuple[Any, ...]] = {}
        self.sources: dict[str, tuple[Any, ...]] = {}
        self.people: tuple[Any, ...] = ()
        self._changed = False  # an entry made or changed
        # the data of files checked now as their workers marshalled it, while `keep_bytes` says to keep it for the
        # save (which marshals the others' again)
        self._bytes: dict[str, bytes] | None = None

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
        with lasting_objects():  # what was found before: plain data that lives as long as the check
            found = read_entries(layout.cache / CACHE_FILE, key)
        return cls(layout.cache, key, found)

    @property
    def enabled(self) -> bool:
        return self.folder is not None

    @property
    def schemas_valid(self) -> bool:
        """Whether the schemas are those of a cache written before, which is written only once they were checked."""
        return bool(self._old_records or self._old_sources or self._old_people)

    def known(self, relative: str, root: str, root_fd: int | None = None) -> RecordEntry | None:
        """What was found before in the file `relative` (under `root`, open as `root_fd` when given: its status is
        then read without a path joined: 0.040 s against 0.057 for 10,000 records), if it has the same bytes: known
        by its status when that is the status stored with them, else by hashing the file."""
        entry = self._old_records.get(relative)
        if entry is None:
            return None
        try:
            status = os.stat(relative, dir_fd=root_fd) if root_fd is not None else os.stat(os.path.join(root, relative))
        except (OSError, ValueError):
            return None
        stat = stat_key(status, self.now)
        if stat is None or stat != entry[STAT]:
            if file_digest(os.path.join(root, relative)) != entry[0]:
                return None
            if stat != entry[STAT]:  # the same bytes with another status (a checkout, a copy): keep the new one
                entry = _with(entry, STAT, stat)
                self._changed = True
        self.records[relative] = entry
        return RecordEntry(*entry)

    def keep_bytes(self) -> None:
        """From now on, keep the marshalled data `put` is given, for the save, which then marshals none of it again:
        for a check of few records (dataset.KEEP_BYTES_UP_TO); many would hold their bytes beside their data."""
        self._bytes = {}

    def put(self, digest: bytes | None, stat: Stat | None, entry: tuple[bool, Any, Any, Loaded], relative: str, *,
            record: bool = False, marshalled: bytes | None = None) -> None:
        """Keep what was found in a file's bytes (`digest`; None: not to be kept): in_shape, read problems,
        problems, and what was loaded, whose data is read when the cache is saved (by then the check has read it;
        the references of a `record` are made from it then: until then they would be held for every record); and
        the data `marshalled`, when keep_bytes was called."""
        if digest is not None and self.enabled:
            self.records[relative] = (digest, *entry, None, None, stat, None, record)
            if marshalled is not None and self._bytes is not None:
                self._bytes[relative] = marshalled
            self._changed = True

    def quotes(self, relative: str) -> tuple[QuoteResult, ...] | None:
        entry = self.records.get(relative)
        if not entry or entry[QUOTES] is None:
            return None
        digests, found, messages = entry[QUOTES]
        count = len(digests)
        return tuple(zip(digests, (True,) * count if found is True else found, messages or (None,) * count, strict=True))

    def put_quotes(self, relative: str, results: tuple[QuoteResult, ...]) -> None:
        # Kept as three columns, the usual case (every quote found as written, no message) in two small objects:
        # a tuple for each quote would be a tenth of the memory a large dataset's check takes.
        digests, found, messages = (tuple(column) for column in zip(*results, strict=True)) if results else ((), (), ())
        self._update(relative, QUOTES, (digests, True if all(f is True for f in found) else found,
                                        None if all(m is None for m in messages) else messages))

    def officials(self, relative: str, key: Any) -> tuple[Problem, ...] | None:
        """The problems officials.py found in a record, when what they depend on besides it has the same `key`."""
        entry = self.records.get(relative)
        found = entry[OFFICIALS] if entry else None
        return restored(found[1]) if found and found[0] == key else None

    def put_officials(self, relative: str, key: Any, problems: Iterable[Problem]) -> None:
        self._update(relative, OFFICIALS, (key, stored(problems)))

    def settled(self, relative: str, context: Any) -> tuple[Problem, ...] | None:
        """The official problems of a record whose quotes were all found in their sources as written, when the quote
        and official rules last ran on it in this `context` (check/provenance.py's RulesContext): they would find the
        same again, so the record need not be walked. None otherwise."""
        entry = self.records.get(relative)
        if entry is None or entry[SETTLED_IN] != context or entry[QUOTES] is None or entry[OFFICIALS] is None:
            return None
        _, found, messages = entry[QUOTES]
        return restored(entry[OFFICIALS][1]) if found is True and messages is None else None

    def settle(self, contexts: Mapping[str, Any]) -> None:
        """Record that the quote and official rules ran on these records, each in its context (by file)."""
        for relative, context in contexts.items():
            self._update(relative, SETTLED_IN, context)

    def _update(self, relative: str, field: int, value: Any) -> None:
        """Set a field that a later stage finds of a record entry already kept. A new quote or official result
        forgets the context the rules ran in, until `settle` says they both ran in one."""
        entry = self.records.get(relative)
        if entry and entry[field] != value:
            updated = _with(entry, field, value)
            self.records[relative] = updated if field == SETTLED_IN else _with(updated, SETTLED_IN, None)
            self._changed = True

    def known_source(self, name: str, status: os.stat_result) -> tuple[bytes, tuple[Problem, ...]] | None:
        """The SHA-256 and problems of a source document read before, when its status is the one stored with them
        (stat_key): its bytes are then not read (870 sources at 10,000 records)."""
        entry = self._old_sources.get(name)
        stat = stat_key(status, self.now)
        if entry is None or stat is None or entry[2] != stat:
            return None
        self.sources[name] = entry
        return entry[0], restored(entry[1])

    def source(self, name: str, digest: bytes, status: os.stat_result) -> tuple[Problem, ...] | None:
        """The problems of a source document with these bytes, as read before (None: not read before); its
        `status` is kept with them."""
        entry = self._old_sources.get(name)
        if entry is None or entry[0] != digest:
            return None
        stat = stat_key(status, self.now)
        if stat != entry[2]:  # the same bytes with another status (a checkout, a copy, a recent write)
            entry = _with(entry, 2, stat)
            self._changed = True
        self.sources[name] = entry
        return restored(entry[1])

    def put_source(self, name: str, digest: bytes, problems: Iterable[Problem], status: os.stat_result) -> None:
        self.sources[name] = (digest, stored(problems), stat_key(status, self.now))
        self._changed = True

    def people_problems(self, key: bytes) -> tuple[Problem, ...] | None:
        if not self._old_people or self._old_people[0] != key:
            return None
        self.people = self._old_people
        return restored(self._old_people[1])

    def put_people_problems(self, key: bytes, problems: Iterable[Problem]) -> None:
        self.people = (key, stored(problems))
        self._changed = True

    def save(self) -> None:
        """Write what changed since the entries were read: on its own while it is little (FEW_CHANGES), else every
        entry; a failure to write is not a problem."""
        if self.folder is None:
            return
        if not (self._changed or self.records.keys() != self._old_records.keys() or self.people != self._old_people
                or self.sources.keys() != self._old_sources.keys()):
            return
        entries = {"sources": self.sources, "people": self.people}
        changed = [(name, entry) for name, entry in self.records.items() if self._written.get(name) is not entry]
        dropped = [name for name in self._written if name not in self.records]
        # Each record's data as marshalled bytes of its own, decoded only when read (check/per_file.py's
        # Undecoded): after a few changes, the next check decodes the changed records' data alone. (Without the
        # collector: the tuples made here would start collections that walk every record's data.)
        with no_garbage_collection():
            if self._generation is not None and len(changed) + len(dropped) <= len(self.records) // FEW_CHANGES:
                write_changes(self.folder / CHANGES_FILE, self.key, self._generation, entries, _plain(changed, self._bytes),
                              dropped)
                return
            write_entries(self.folder / CACHE_FILE, self.key, os.urandom(16), entries,
                          _plain(self.records.items(), self._bytes))
        with suppress(OSError):
            (self.folder / CHANGES_FILE).unlink(missing_ok=True)  # made to the generation replaced
        for stale in self.folder.glob("check-*.marshal"):  # an earlier version's files, 13 MB for 10,000 records
            with suppress(OSError):
                stale.unlink()


def _references(data: Any) -> tuple[Any, ...] | None:
    """A record's references as stored (a plain tuple: marshal takes no NamedTuple); None should its data not be
    what the schema says (a record without them has them made from its data, by the rules that read them)."""
    try:
        return tuple(data_references(data))
    except (KeyError, TypeError, AttributeError):
        return None


def _plain(entries: Iterable[tuple[str, tuple[Any, ...]]],
           marshalled: Mapping[str, bytes] | None) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Record entries as stored: of a file checked now, its data marshalled (as kept, else now), not the Loaded,
    and, for a record, its references."""
    for relative, entry in entries:
        loaded = entry[DATA]
        if isinstance(loaded, Loaded):
            references = _references(loaded.data) if entry[REFERENCES] else None
            data = (marshalled or {}).get(relative) or marshal.dumps(loaded.data)
            entry = (*_with(entry, DATA, data)[:REFERENCES], references)
        yield relative, entry
