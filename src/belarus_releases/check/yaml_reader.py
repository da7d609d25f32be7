"""Check, read YAML: bytes of one YAML file -> plain data with the line and column of every value.

The parser is driven event by event (libyaml when present), so that anchors, aliases, tags,
duplicate keys and runaway nesting are refused the moment they appear, before any value is built.
Scalars keep the type the contributor meant (see scalars.py); forbidden characters written as
escapes in double-quoted text ("\u202E") are caught here, since the scan of the raw file cannot see them.
The per-file check reads with load_quick: a file with no problem is read by a faster loop that keeps no positions.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import Any

import yaml

from belarus_releases.check.characters import (
    LineIndex,
    Places,
    check_values,
    decode_text,
    is_clean,
    scan_characters,
    too_large,
    value_problems,
)
from belarus_releases.check.yaml_events import MAX_DEPTH, MAX_ITEMS, Builder, Parsed, Stop
from belarus_releases.check.yaml_plain import Unusual, plain_data
from belarus_releases.check.yaml_syntax import syntax_problem
from belarus_releases.problems import JsonPath, Position, Problem

Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 256 * 1024
__all__ = ["MAX_BYTES", "MAX_DEPTH", "MAX_ITEMS", "NO_POSITIONS", "Loaded", "Loader", "load_bytes", "load_file", "load_quick",
           "load_read",
           "read_file"]


class _NoPositions(Mapping[JsonPath, Position]):
    """The positions of a result that holds none: one shared empty mapping, not three new dicts for each of 100,000
    records. Equal to any empty mapping; pickled by name."""

    def __getitem__(self, path: JsonPath) -> Position:
        raise KeyError(path)

    def __iter__(self) -> Iterator[JsonPath]:
        return iter(())

    def __len__(self) -> int:
        return 0

    def __reduce__(self) -> str:
        return "NO_POSITIONS"

    def __repr__(self) -> str:
        return "{}"


NO_POSITIONS: Mapping[JsonPath, Position] = _NoPositions()


@dataclass(frozen=True)
class Loaded:
    """One file as read: its data (None when unreadable), where each value and key stands, and its problems.

    Frozen: later stages return new results and never change what reading returned."""

    file: str
    data: Any = None
    values: Mapping[JsonPath, Position] = field(default_factory=dict)
    keys: Mapping[JsonPath, Position] = field(default_factory=dict)
    ends: Mapping[JsonPath, Position] = field(default_factory=dict)  # where each scalar's text ends
    problems: tuple[Problem, ...] = ()
    # Set when the positions were dropped (or never kept, for a result from the cache): the folder to read the
    # file again from, the first time a later rule asks where something stands. Most records are never asked.
    root: Path | None = field(default=None, compare=False, repr=False)
    # What the rules across records read of a record (record.References), when kept apart from its data: set only
    # on a record from the check's cache (per_file.Undecoded), whose data is decoded only if something reads it; not
    # an argument, so that a copy with other data (dataclasses.replace) reads its references from that data
    references: Any = field(default=None, init=False, compare=False, repr=False)

    def position(self, path: JsonPath, *, key: bool = False) -> Position:
        """Where `path` stands, or its nearest ancestor that does (a missing field points at its parent)."""
        located = self._located
        table = located.keys if key else located.values
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or located.values.get(path[:end])
            if found:
                return found
        return (1, 1)

    @cached_property
    def _located(self) -> Loaded:
        if self.root is None or self.values:
            return self
        return load_file(self.root, self.file)


def load_file(root: Path, relative: str) -> Loaded:
    """Load `relative` (a posix path under `root`), checking its size before reading it whole."""
    return load_read(read_file(os.path.join(root, relative)), relative)


def read_file(path: str) -> bytes | int:
    """A file's bytes, or its size when it is larger than MAX_BYTES (it is then not read). Raises OSError."""
    with open(path, "rb") as file:
        size = os.fstat(file.fileno()).st_size
        if size > MAX_BYTES:
            return size
        content = file.read(MAX_BYTES + 1)  # read up to one byte too many: a file that grew since is refused too
    return content if len(content) <= MAX_BYTES else len(content)


def load_read(raw: bytes | int, relative: str, *, quick: bool = False) -> Loaded:
    """Load what `read_file` returned. `quick`: positions are found only when first asked (load_quick)."""
    if isinstance(raw, int):
        return Loaded(relative, problems=(_too_large(relative, raw),))
    return load_quick(raw, relative) if quick else load_bytes(raw, relative)


_EMPTY = "the file has no record in it; write the record (an existing record is a good start), or delete the file"


def _too_large(name: str, size: int) -> Problem:
    return too_large(name, size, MAX_BYTES, "split it or shorten the quotes")


def load_bytes(raw: bytes, name: str) -> Loaded:
    """Load one YAML document from bytes; problems are collected, never raised."""
    text, problems = decode_text(raw, name, limit=MAX_BYTES, empty=_EMPTY, too_long="split it or shorten the quotes")
    if text is None:
        return Loaded(name, problems=tuple(problems))
    return _load_text(text, name)


def load_quick(raw: bytes, name: str) -> Loaded:
    """What load_bytes finds, but positions are found only when first asked for (as the file has a problem, nearly
    always): a file with no problem is read once, by the fast reader (yaml_plain.py), without any position."""
    text, problems = decode_text(raw, name, limit=MAX_BYTES, empty=_EMPTY, too_long="split it or shorten the quotes")
    if text is None:
        return Loaded(name, problems=tuple(problems))
    return (_quick(text, name) if is_clean(text) else None) or _load_text(text, name)


def _quick(text: str, name: str) -> Loaded | None:
    """The file read by the fast reader, when it has no problem at all; None when the reference must read it."""
    try:
        data, texts = plain_data(text, Loader)
    except Unusual:
        return None
    if not isinstance(data, dict):
        return None  # empty, or not a mapping: the reference words it
    try:
        # the text values as the reader found them: check_values's, without walking the data again (where each
        # stands is never asked: a problem makes the reference read the file)
        if value_problems(zip(repeat(()), repeat(0), texts), name, _unplaced):
            return None
    except _Unplaced:
        return None
    return Unlocated(name, data, NO_POSITIONS, NO_POSITIONS, NO_POSITIONS, (), text=text)


class _Unplaced(Exception):
    """A text value has a problem, which needs the positions the fast reader does not keep."""


def _unplaced() -> Places:
    raise _Unplaced


def _load_text(text: str, name: str) -> Loaded:
    problems: list[Problem] = []
    index = LineIndex(text)
    problems.extend(scan_characters(index, name))
    if any(p.type == "control-character" for p in problems):
        return Loaded(name, problems=tuple(problems))  # the YAML reader refuses these too; one message per character
    parsed = _parse(name, index)
    problems.extend(parsed.problems)
    data = parsed.data
    if data is None and not problems:
        problems.append(Problem(name, 1, 1, "empty-file", _EMPTY))
    elif data is not None and not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else "a single value"
        problems.append(Problem(name, 1, 1, "not-a-mapping",
                                f"the file holds {kind}, not a mapping of fields; write the record as `field: value` lines"))
        data = None
    elif data is not None:
        places = (index, parsed.unclamped(parsed.values, parsed.raw_values), parsed.unclamped(parsed.ends, parsed.raw_ends))
        problems.extend(check_values(data, name, lambda: places))
    # every position inside the file, so that editors and annotations can show it (the builder clamped the rest)
    return Loaded(name, data, parsed.values, parsed.keys, parsed.ends,
                  tuple(index.clamp_problem(problem) for problem in problems))


@dataclass(frozen=True, eq=False)
class Unlocated(Loaded):
    """A file the fast reader read, found without any problem: until a position is asked for, it holds none; the
    first question has the reference reader read the same text (never the file again: it may have changed)."""

    text: str = field(default="", repr=False)

    @cached_property
    def _located(self) -> Loaded:
        return _load_text(self.text, self.file)


def _parse(name: str, index: LineIndex) -> Parsed:
    """Parse with libyaml for speed; when libyaml gives up, the pure-Python parser decides what is wrong.

    libyaml's own limits differ between releases (0.2.6 stops at 1,000 nesting levels, 0.2.5 does not), and so
    do some of its messages; the pure-Python parser ships inside PyYAML, pinned by the lock. So a file's problems
    are the same whichever libyaml is installed, and the same without one."""
    parsed = _parse_with(Loader, name, index)
    if parsed.failed and Loader is not yaml.SafeLoader:
        parsed = _parse_with(yaml.SafeLoader, name, index)
    return parsed


def _parse_with(loader: type, name: str, index: LineIndex) -> Parsed:
    parsed = Parsed()
    try:
        parsed.data = Builder(parsed, name, index).build(loader)
    except Stop:
        parsed.data = None
    except yaml.MarkedYAMLError as error:
        parsed = Parsed(problems=[syntax_problem(name, error, index)], failed=True)
    except yaml.YAMLError as error:
        parsed = Parsed(problems=[Problem(name, 1, 1, "yaml-syntax", f"{error}; check the YAML syntax")], failed=True)
    return parsed
