"""Check, read YAML: plain data and positions built from parser events in one pass, refusing unsafe constructs.

Anchors, aliases, tags, merge keys, duplicate keys and runaway nesting or lists are refused the moment their event
arrives, before any value is built. This is the loop every record goes through, so it is written for speed: one
type test per event, positions clamped inside the file as they are recorded (a clamp changes nothing for nearly
every position, and a test decides that in two comparisons), scalars typed by scalars.py.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from sys import intern
from typing import Any

import yaml

from belarus_releases.check.characters import LineIndex, describe, forbidden_characters
from belarus_releases.check.scalars import scalar_value, show_tag
from belarus_releases.problems import JsonPath, Position, Problem, at

MAX_DEPTH = 10
SHORT = 40  # texts up to this long are interned; longer ones (quotes) are nearly all distinct
MAX_ITEMS = 20_000  # the longest list a registry may hold; records allow far fewer (their schema's maxItems)

_Scalar, _Alias = yaml.ScalarEvent, yaml.AliasEvent
_SequenceStart, _SequenceEnd = yaml.SequenceStartEvent, yaml.SequenceEndEvent
_MappingEnd, _DocumentStart, _StreamEnd = yaml.MappingEndEvent, yaml.DocumentStartEvent, yaml.StreamEndEvent
_Skipped = (yaml.StreamStartEvent, yaml.DocumentEndEvent)


class Stop(Exception):
    """Parsing cannot safely go on; the problem is already recorded."""


@dataclass
class Parsed:
    """What one parse found. Positions are clamped inside the file; `raw_values`, `raw_ends` and `raw_keys` hold the
    parser's own positions where the clamp moved them (rarely: an empty value at the end of a file without a final
    newline), since the search for a mixed-script word's place in a value and the duplicate-key message start
    from what the parser said."""

    data: Any = None
    values: dict[JsonPath, Position] = field(default_factory=dict)
    keys: dict[JsonPath, Position] = field(default_factory=dict)
    ends: dict[JsonPath, Position] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    failed: bool = False  # the YAML parser itself gave up (not one of our own refusals)
    raw_values: dict[JsonPath, Position] = field(default_factory=dict)
    raw_ends: dict[JsonPath, Position] = field(default_factory=dict)
    raw_keys: dict[JsonPath, Position] = field(default_factory=dict)

    def unclamped(self, table: dict[JsonPath, Position], raw: dict[JsonPath, Position]) -> dict[JsonPath, Position]:
        return {**table, **raw} if raw else table


class Builder:
    """Builds plain data from the events of one parser, recording positions into `parsed`."""

    def __init__(self, parsed: Parsed, name: str, index: LineIndex) -> None:
        self.parsed = parsed
        self.values, self.ends = parsed.values, parsed.ends
        self.name = name
        self.index = index
        self.text = index.text
        self.limits = index.limits
        self.lines = len(index.limits)  # one more than the number of lines

    def build(self, loader: type) -> Any:
        parser = loader(self.text)
        try:
            return self._document(parser)
        finally:
            parser.dispose()

    def fail(self, mark: Any, type_: str, message: str) -> None:
        self.parsed.problems.append(at(self.name, (mark.line + 1, mark.column + 1), type_, message))

    def _at(self, mark: Any, table: dict[JsonPath, Position], raw: dict[JsonPath, Position], path: JsonPath) -> None:
        """Record where `path` stands, clamped inside the file; the parser's own position too, if the clamp moved it.
        (The same test is written out in the loops below, which run for every value.)"""
        line, col = mark.line + 1, mark.column + 1
        if line < self.lines and col <= self.limits[line]:
            table[path] = (line, col)
            return
        table[path] = clamped = self.index.clamp(line, col)
        if clamped != (line, col):
            raw[path] = (line, col)

    def _document(self, parser: Any) -> Any:
        root: Any = None
        documents = 0
        while True:
            event = parser.get_event()
            if type(event) is _StreamEnd:
                return root
            if type(event) is _DocumentStart:
                documents += 1
                if documents > 1:
                    self.fail(event.start_mark, "multiple-documents",
                              "a second YAML document starts here; one record per file: move it to its own file")
                    raise Stop
            elif not isinstance(event, _Skipped):
                root = self._node(parser, event, (), 1)

    def _refuse(self, event: Any, depth: int) -> None:
        """Stop at an alias, anchor, tag or a node nested too deep (checked in that order)."""
        if isinstance(event, yaml.AliasEvent):
            self.fail(event.start_mark, "yaml-alias", f"alias *{event.anchor} is not allowed; write the value out in full")
            raise Stop
        if event.anchor is not None:
            self.fail(event.start_mark, "yaml-anchor", f"anchor &{event.anchor} is not allowed; write the value out in full")
            raise Stop
        if event.tag is not None:
            self.fail(event.start_mark, "yaml-tag",
                      f"tag {show_tag(event.tag)} is not allowed; remove it, and quote the value if it is text")
            raise Stop
        if depth > MAX_DEPTH:
            self.fail(event.start_mark, "too-deep", f"values are nested more than {MAX_DEPTH} levels deep, "
                      "which no record needs; check the indentation and brackets")
            raise Stop

    def _node(self, parser: Any, event: Any, path: JsonPath, depth: int) -> Any:
        kind = type(event)
        if kind is _Alias or event.anchor is not None or event.tag is not None or depth > MAX_DEPTH:
            self._refuse(event, depth)
        mark = event.start_mark
        line, col = mark.line + 1, mark.column + 1
        if line < self.lines and col <= self.limits[line]:
            self.values[path] = (line, col)
        else:
            self._at(mark, self.values, self.parsed.raw_values, path)
        if kind is _Scalar:
            return self._scalar(event, path)
        if kind is _SequenceStart:
            return self._sequence(parser, event, path, depth)
        return self._mapping(parser, path, depth)

    def _scalar(self, event: Any, path: JsonPath) -> Any:
        mark = event.end_mark
        line, col = mark.line + 1, mark.column + 1
        if line < self.lines and col <= self.limits[line]:
            self.ends[path] = (line, col)
        else:
            self._at(mark, self.ends, self.parsed.raw_ends, path)
        value, ambiguity = scalar_value(event.value, event.style)
        if type(value) is str and len(value) <= SHORT:
            value = intern(value)  # ids, dates, names, kinds: one object for all their uses in 100,000 records
        if ambiguity:
            self.fail(event.start_mark, "ambiguous-value", ambiguity)
        if event.style == '"':
            self._escapes(event)
        return value

    def _sequence(self, parser: Any, start: Any, path: JsonPath, depth: int) -> list[Any]:
        items: list[Any] = []
        while True:
            event = parser.get_event()
            if type(event) is _SequenceEnd:
                return items
            if len(items) == MAX_ITEMS:
                self.fail(start.start_mark, "too-many-items", f"this list has more than {MAX_ITEMS:,} items, "
                          "more than any file of this dataset needs; split it or check for a runaway paste")
                raise Stop
            items.append(self._node(parser, event, (*path, len(items)), depth + 1))

    def _escapes(self, event: yaml.ScalarEvent) -> None:
        """Forbidden characters that a double-quoted scalar makes from escapes such as \\u202E."""
        start, end = event.start_mark, event.end_mark
        written = self.text[start.index:end.index] if start and end else ""
        for type_, char in forbidden_characters(event.value):
            if char not in written:
                self.fail(event.start_mark, type_, f"{describe(char)}, written as an escape in this text; delete the escape")

    def _mapping(self, parser: Any, path: JsonPath, depth: int) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        keys, limits, lines = self.parsed.keys, self.limits, self.lines
        while True:
            event = parser.get_event()
            kind = type(event)
            if kind is _MappingEnd:
                return mapping
            if (kind is not _Scalar or event.anchor is not None or event.tag is not None or depth >= MAX_DEPTH
                    or (event.value == "<<" and not event.style)):
                self._refuse_key(event, depth + 1)
            key = intern(unicodedata.normalize("NFC", event.value))  # field names: one object for every record
            here = (*path, key)
            if key in mapping:
                self._duplicate(parser, event, here, path, depth)
                continue
            mark = event.start_mark
            line, col = mark.line + 1, mark.column + 1
            if line < lines and col <= limits[line]:
                keys[here] = (line, col)
            else:
                self._at(mark, keys, self.parsed.raw_keys, here)
            mapping[key] = self._node(parser, parser.get_event(), here, depth + 1)

    def _refuse_key(self, event: Any, depth: int) -> None:
        """Stop at a key that is not plain text: refused as a node first, then as a list or mapping, or a merge key."""
        self._refuse(event, depth)
        if type(event) is not _Scalar:
            self.fail(event.start_mark, "complex-key",
                      "a mapping key must be a plain field name; write one here, not a list or mapping")
            raise Stop
        self.fail(event.start_mark, "yaml-merge-key", "merge keys (<<) are not allowed; write the keys out in full")
        raise Stop

    def _duplicate(self, parser: Any, event: Any, here: JsonPath, path: JsonPath, depth: int) -> None:
        """Report a key seen before in this mapping (where the parser first saw it), and read past its value."""
        first = self.parsed.raw_keys.get(here) or self.parsed.keys[here]
        self.fail(event.start_mark, "duplicate-key",
                  f"key '{here[-1]}' appears twice in this mapping (first at line {first[0]}, column {first[1]}); keep one")
        self._node(parser, parser.get_event(), (*path, "\x00duplicate"), depth + 1)
