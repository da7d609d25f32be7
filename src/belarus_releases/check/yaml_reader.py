"""Check, read YAML: bytes of one YAML file -> plain data with the line and column of every value.

The parser is driven event by event (libyaml when present), so that anchors, aliases, tags,
duplicate keys and runaway nesting are refused the moment they appear, before any value is built.
Scalars keep the type the contributor meant (see scalars.py); forbidden characters written as
escapes in double-quoted text ("\u202E") are caught here, since the scan of the raw file cannot see them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml

from belarus_releases.check.characters import (
    LineIndex,
    check_values,
    decode_text,
    describe,
    forbidden_characters,
    scan_characters,
    too_large,
)
from belarus_releases.check.scalars import scalar_value, show_tag
from belarus_releases.check.yaml_syntax import syntax_problem
from belarus_releases.problems import JsonPath, Position, Problem, at

Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 256 * 1024
MAX_DEPTH = 10
MAX_ITEMS = 20_000  # the longest list a registry may hold; records allow far fewer (their schema's maxItems)


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

    def position(self, path: JsonPath, *, key: bool = False) -> Position:
        """Where `path` stands, or its nearest ancestor that does (a missing field points at its parent)."""
        located = self._located
        table = located.keys if key else located.values
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or located.values.get(path[:end])
            if found:
                return found
        return (1, 1)

    def without_positions(self, root: Path) -> Loaded:
        """The same result holding no positions (they are most of its memory); `position` reads them again from
        the file under `root` when first asked."""
        return replace(self, values={}, keys={}, ends={}, root=root)

    @cached_property
    def _located(self) -> Loaded:
        if self.root is None or self.values:
            return self
        return load_file(self.root, self.file)


class _Stop(Exception):
    """Parsing cannot safely go on; the problem is already recorded."""


def load_file(root: Path, relative: str) -> Loaded:
    """Load `relative` (a posix path under `root`), checking its size before reading it whole."""
    path = root / relative
    size = path.stat().st_size
    if size > MAX_BYTES:
        return Loaded(relative, problems=(_too_large(relative, size),))
    return load_bytes(path.read_bytes(), relative)


_EMPTY = "the file has no record in it; write the record (an existing record is a good start), or delete the file"


def _too_large(name: str, size: int) -> Problem:
    return too_large(name, size, MAX_BYTES, "split it or shorten the quotes")


def load_bytes(raw: bytes, name: str) -> Loaded:
    """Load one YAML document from bytes; problems are collected, never raised."""
    text, problems = decode_text(raw, name, limit=MAX_BYTES, empty=_EMPTY, too_long="split it or shorten the quotes")
    if text is None:
        return Loaded(name, problems=tuple(problems))
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
        problems.extend(check_values(data, parsed.values, index, name, parsed.ends))
    return _clamped(Loaded(name, data, parsed.values, parsed.keys, parsed.ends, tuple(problems)), index)


def _clamped(loaded: Loaded, index: LineIndex) -> Loaded:
    """The same result with every position inside the file, so that editors and annotations can show it."""
    def clamp(table: Mapping[JsonPath, Position]) -> dict[JsonPath, Position]:
        return {path: index.clamp(*position) for path, position in table.items()}

    return Loaded(loaded.file, loaded.data, clamp(loaded.values), clamp(loaded.keys), clamp(loaded.ends),
                  tuple(index.clamp_problem(problem) for problem in loaded.problems))


def _parse(name: str, index: LineIndex) -> _Parsed:
    """Parse with libyaml for speed; when libyaml gives up, the pure-Python parser decides what is wrong.

    libyaml's own limits differ between releases (0.2.6 stops at 1,000 nesting levels, 0.2.5 does not), and so
    do some of its messages; the pure-Python parser ships inside PyYAML, pinned by the lock. So a file's problems
    are the same whichever libyaml is installed, and the same without one."""
    parsed = _parse_with(Loader, name, index)
    if parsed.failed and Loader is not yaml.SafeLoader:
        parsed = _parse_with(yaml.SafeLoader, name, index)
    return parsed


@dataclass
class _Parsed:
    data: Any = None
    values: dict[JsonPath, Position] = field(default_factory=dict)
    keys: dict[JsonPath, Position] = field(default_factory=dict)
    ends: dict[JsonPath, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    failed: bool = False  # the YAML parser itself gave up (not one of our own refusals)


def _parse_with(loader: type, name: str, index: LineIndex) -> _Parsed:
    parsed = _Parsed()
    try:
        parsed.data = _Builder(parsed, name, index.text).build(loader)
    except _Stop:
        parsed.data = None
    except yaml.MarkedYAMLError as error:
        parsed = _Parsed(problems=[syntax_problem(name, error, index)], failed=True)
    except yaml.YAMLError as error:
        parsed = _Parsed(problems=[Problem(name, 1, 1, "yaml-syntax", f"{error}; check the YAML syntax")], failed=True)
    return parsed


class _Builder:
    """Builds plain data from parser events, keeping positions and refusing unsafe constructs."""

    def __init__(self, parsed: _Parsed, name: str, text: str) -> None:
        self.loaded = parsed
        self.name = name
        self.text = text

    def fail(self, mark: Any, type_: str, message: str) -> None:
        self.loaded.problems.append(at(self.name, _pos(mark), type_, message))

    def build(self, loader: type) -> Any:
        parser = loader(self.text)
        try:
            return self._document(parser)
        finally:
            parser.dispose()

    def _document(self, parser: Any) -> Any:
        root: Any = None
        documents = 0
        while parser.check_event():
            event = parser.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    self.fail(event.start_mark, "multiple-documents",
                              "a second YAML document starts here; one record per file: move it to its own file")
                    raise _Stop
            elif isinstance(event, (yaml.StreamStartEvent, yaml.StreamEndEvent, yaml.DocumentEndEvent)):
                continue
            else:
                root = self._node(parser, event, (), 1)
        return root

    def _check_node(self, event: Any, depth: int) -> None:
        if isinstance(event, yaml.AliasEvent):
            self.fail(event.start_mark, "yaml-alias", f"alias *{event.anchor} is not allowed; write the value out in full")
            raise _Stop
        if event.anchor is not None:
            self.fail(event.start_mark, "yaml-anchor", f"anchor &{event.anchor} is not allowed; write the value out in full")
            raise _Stop
        if event.tag is not None:
            self.fail(event.start_mark, "yaml-tag",
                      f"tag {show_tag(event.tag)} is not allowed; remove it, and quote the value if it is text")
            raise _Stop
        if depth > MAX_DEPTH:
            self.fail(event.start_mark, "too-deep", f"values are nested more than {MAX_DEPTH} levels deep, "
                      "which no record needs; check the indentation and brackets")
            raise _Stop

    def _node(self, parser: Any, event: Any, path: JsonPath, depth: int) -> Any:
        self._check_node(event, depth)
        self.loaded.values[path] = _pos(event.start_mark)
        if isinstance(event, yaml.ScalarEvent):
            self.loaded.ends[path] = _pos(event.end_mark)
            value, ambiguity = scalar_value(event.value, event.style)
            if ambiguity:
                self.fail(event.start_mark, "ambiguous-value", ambiguity)
            if event.style == '"':
                self._escapes(event)
            return value
        if isinstance(event, yaml.SequenceStartEvent):
            items: list[Any] = []
            while not parser.check_event(yaml.SequenceEndEvent):
                if len(items) == MAX_ITEMS:
                    self.fail(event.start_mark, "too-many-items", f"this list has more than {MAX_ITEMS:,} items, "
                              "more than any file of this dataset needs; split it or check for a runaway paste")
                    raise _Stop
                items.append(self._node(parser, parser.get_event(), (*path, len(items)), depth + 1))
            parser.get_event()
            return items
        return self._mapping(parser, path, depth)

    def _escapes(self, event: yaml.ScalarEvent) -> None:
        """Forbidden characters that a double-quoted scalar makes from escapes such as \\u202E."""
        start, end = event.start_mark, event.end_mark
        written = self.text[start.index:end.index] if start and end else ""
        for type_, char in forbidden_characters(event.value):
            if char not in written:
                self.fail(event.start_mark, type_, f"{describe(char)}, written as an escape in this text; delete the escape")

    def _mapping(self, parser: Any, path: JsonPath, depth: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        while not parser.check_event(yaml.MappingEndEvent):
            key_event = parser.get_event()
            key = self._key(key_event, depth)
            value_event = parser.get_event()
            if key in mapping:
                first = self.loaded.keys[(*path, key)]
                self.fail(key_event.start_mark, "duplicate-key",
                          f"key '{key}' appears twice in this mapping (first at line {first[0]}, column {first[1]}); keep one")
                self._node(parser, value_event, (*path, "\x00duplicate"), depth + 1)
                continue
            self.loaded.keys[(*path, key)] = _pos(key_event.start_mark)
            mapping[key] = self._node(parser, value_event, (*path, key), depth + 1)
        parser.get_event()
        return mapping

    def _key(self, event: Any, depth: int) -> str:
        self._check_node(event, depth + 1)
        if not isinstance(event, yaml.ScalarEvent):
            self.fail(event.start_mark, "complex-key",
                      "a mapping key must be a plain field name; write one here, not a list or mapping")
            raise _Stop
        if event.value == "<<" and not event.style:
            self.fail(event.start_mark, "yaml-merge-key", "merge keys (<<) are not allowed; write the keys out in full")
            raise _Stop
        return unicodedata.normalize("NFC", event.value)


def _pos(mark: Any) -> Position:
    return (mark.line + 1, mark.column + 1)
