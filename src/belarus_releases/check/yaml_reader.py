"""Stage 1, load: bytes of one YAML file -> plain data with the line and column of every value.

The parser is driven event by event (libyaml when present), so that anchors, aliases, tags,
duplicate keys and runaway nesting are refused the moment they appear, before any value is built.
Scalars keep the type the contributor meant (see scalars.py); forbidden characters written as
escapes in double-quoted text ("\u202E") are caught here, since the scan of the raw file cannot see them.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from belarus_releases.check.characters import LineIndex, check_values, describe, forbidden_characters, scan_characters
from belarus_releases.check.scalars import scalar_value, show_tag
from belarus_releases.problems import JsonPath, Position, Problem, at

Loader: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

MAX_BYTES = 256 * 1024
MAX_DEPTH = 10


@dataclass
class Loaded:
    """One file as loaded: its data (None when unreadable), where each value and key stands, and its problems."""

    file: str
    data: Any = None
    values: dict[JsonPath, Position] = field(default_factory=dict)
    keys: dict[JsonPath, Position] = field(default_factory=dict)
    ends: dict[JsonPath, Position] = field(default_factory=dict)  # where each scalar's text ends
    problems: list[Problem] = field(default_factory=list)
    # Set by validation: the schema found nothing wrong but unknown fields, and the rules that read fields could run.
    in_shape: bool = False

    def position(self, path: JsonPath, *, key: bool = False) -> Position:
        """Where `path` stands, or its nearest ancestor that does (a missing field points at its parent)."""
        table = self.keys if key else self.values
        for end in range(len(path), -1, -1):
            found = table.get(path[:end]) or self.values.get(path[:end])
            if found:
                return found
        return (1, 1)


class _Stop(Exception):
    """Parsing cannot safely go on; the problem is already recorded."""


def load_file(root: Path, relative: str) -> Loaded:
    """Load `relative` (a posix path under `root`), checking its size before reading it whole."""
    path = root / relative
    size = path.stat().st_size
    if size > MAX_BYTES:
        return Loaded(relative, problems=[_too_large(relative, size)])
    return load_bytes(path.read_bytes(), relative)


_EMPTY = "the file has no record in it; write the record (an existing record is a good start), or delete the file"


def _too_large(name: str, size: int) -> Problem:
    return Problem(name, 1, 1, "file-too-large",
                   f"the file is {size:,} bytes; the limit is {MAX_BYTES:,} bytes: split it or shorten the quotes")


def load_bytes(raw: bytes, name: str) -> Loaded:
    """Load one YAML document from bytes; problems are collected, never raised."""
    loaded = Loaded(name)
    text = _decode(raw, loaded)
    if text is None:
        return loaded
    index = LineIndex(text)
    loaded.problems.extend(scan_characters(index, name))
    if any(p.type == "control-character" for p in loaded.problems):
        return loaded  # the YAML reader refuses these too; one message per character is enough
    _parse(loaded, index)
    if loaded.data is None and not loaded.problems:
        loaded.problems.append(Problem(name, 1, 1, "empty-file", _EMPTY))
    elif loaded.data is not None and not isinstance(loaded.data, dict):
        kind = "a list" if isinstance(loaded.data, list) else "a single value"
        loaded.problems.append(Problem(name, 1, 1, "not-a-mapping",
                                       f"the file holds {kind}, not a mapping of fields; "
                                       "write the record as `field: value` lines"))
        loaded.data = None
    elif loaded.data is not None:
        loaded.problems.extend(check_values(loaded.data, loaded.values, index, name, loaded.ends))
    _clamp(loaded, index)
    return loaded


def _clamp(loaded: Loaded, index: LineIndex) -> None:
    """Keep every position inside the file, so that editors and annotations can show it."""
    for table in (loaded.values, loaded.keys, loaded.ends):
        for path, (line, col) in table.items():
            table[path] = index.clamp(line, col)
    loaded.problems = [index.clamp_problem(problem) for problem in loaded.problems]


def _parse(loaded: Loaded, index: LineIndex) -> None:
    try:
        loaded.data = _Builder(loaded, index.text).build()
    except _Stop:
        loaded.data = None
    except yaml.MarkedYAMLError as error:
        loaded.data = None
        loaded.problems.append(_syntax_problem(loaded.file, error, index))
    except yaml.YAMLError as error:
        loaded.data = None
        loaded.problems.append(Problem(loaded.file, 1, 1, "yaml-syntax", f"{error}; check the YAML syntax"))


def _decode(raw: bytes, loaded: Loaded) -> str | None:
    name = loaded.file
    if len(raw) > MAX_BYTES:
        loaded.problems.append(_too_large(name, len(raw)))
        return None
    if not raw.strip():
        loaded.problems.append(Problem(name, 1, 1, "empty-file", _EMPTY))
        return None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) > 1 and (raw[0] == 0 or raw[1] == 0)):
        loaded.problems.append(Problem(name, 1, 1, "not-utf8", "the file is UTF-16; save it as UTF-8"))
        return None
    if raw.startswith(b"\xef\xbb\xbf"):
        loaded.problems.append(Problem(name, 1, 1, "byte-order-mark",
                                       "the file starts with a UTF-8 byte-order mark (U+FEFF); save it without one"))
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        col = len(raw[raw.rfind(b"\n", 0, error.start) + 1:error.start].decode("utf-8", "replace")) + 1
        byte = raw[error.start:error.start + 1].hex()
        loaded.problems.append(Problem(name, line, col, "not-utf8",
                                       f"byte 0x{byte} is not UTF-8 (is the file in cp1251 or another code page?); "
                                       "save it as UTF-8"))
        return None


def _syntax_problem(name: str, error: yaml.MarkedYAMLError, index: LineIndex) -> Problem:
    mark = error.problem_mark or error.context_mark
    if error.context_mark and "end of stream" in (error.problem or ""):
        mark = error.context_mark  # an unclosed quote or bracket: point at where it opened, not at the end of the file
    line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    context, began = error.context or "", error.context_mark
    if context and began and began is not mark and error.problem_mark and began.line != error.problem_mark.line:
        context += f" (which began at line {began.line + 1}, column {began.column + 1})"
    message = " ".join(part for part in (context, error.problem) if part) or "the YAML cannot be read"
    if mark and index.text[index.offset(line, col):][:1] == "\t":
        return Problem(name, line, col, "yaml-syntax", message + " (a tab): indent with spaces, not tabs")
    return Problem(name, line, col, "yaml-syntax", message + "; check the quotes, brackets and indentation here")


class _Builder:
    """Builds plain data from parser events, keeping positions and refusing unsafe constructs."""

    def __init__(self, loaded: Loaded, text: str) -> None:
        self.loaded = loaded
        self.name = loaded.file
        self.text = text

    def fail(self, mark: Any, type_: str, message: str) -> None:
        self.loaded.problems.append(at(self.name, _pos(mark), type_, message))

    def build(self) -> Any:
        parser = Loader(self.text)
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
