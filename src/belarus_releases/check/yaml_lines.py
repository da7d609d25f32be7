"""Check, read YAML fastest: the data of a clean file in the block layout records are written in, line by line.

libyaml parses a record in a few dozen microseconds, but handing its events to Python (an object and two marks
each) costs three times that. Nearly every file is laid out the same simple way: `key: value` lines, `- ` list
items, one-line quoted or plain text, `[a, b]` lists of plain words, and `>-` folded text. This reader takes
exactly that layout, one regular expression a line, and gives up (`Unusual`) on anything else, which
yaml_plain.py's loop over libyaml's events then reads. Giving up is always safe, so each construct is taken only
in a form whose meaning leaves no doubt: plain text that might go on to the next line, a comment after a value,
a tab, an empty value, a blank line inside folded text or with spaces past its indentation, a key of more than
100 characters all make it give up. Its data is that loop's whenever it finishes (tests/test_yaml_lines.py).
"""

from __future__ import annotations

import re
from sys import intern
from typing import Any

from belarus_releases.check.characters import forbidden_characters
from belarus_releases.check.scalars import scalar_value
from belarus_releases.check.yaml_events import MAX_DEPTH, MAX_ITEMS, SHORT


class Unusual(Exception):
    """Something the reference reader reports, refuses or words, or a layout this reader does not take: a fuller
    reader must read this file."""


# indentation, "- " (a list item), `key:` (then spaces or the line's end), and the rest of the line
_KEY = r"[A-Za-z_][A-Za-z0-9_-]{0,99}"  # (libyaml refuses a key of more than 1,024 characters)
_LINE = re.compile(rf"( *)(- )?(?:({_KEY}):(?: +|\Z))?(.*)\Z")
_INDICATORS = frozenset("-?:,[]{}#&*!|>'\"%@` ")  # what plain text may not start with (or not always)
_WORD = r"\w(?:[\w. -]*[\w.-])?"  # an item of a flow list: `a`, `b.c`, `d e` (\w: a letter, digit or _ of any script)
_WORDS = re.compile(rf"(?: *{_WORD} *(?:, *{_WORD} *)*| *)")  # inside the brackets of [a, b.c, d e]
_WORD_ENTRY = re.compile(rf" *({_KEY}): +({_WORD}) *")  # in a {a: b, c: d}
_MAPPING = re.compile(r"\{([^{}\[\]]*)\}")
_MAPPINGS = re.compile(r"(?: *\{[^{}\[\]]*\} *,)* *\{[^{}\[\]]*\} *")  # [{...}, {...}] inside its brackets
_SINGLE = re.compile(r"'((?:[^']|'')*)'\Z")
_DOUBLE = re.compile(r'"([^"\\]*)"\Z')  # without escapes
# Characters this reader leaves to libyaml: those it refuses (controls, U+FFFE, U+FFFF), the line breaks it knows
# besides LF (CR, NEL, LS, PS), tab and the byte-order mark.
_NOT_TAKEN = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")


def lines_data(text: str) -> tuple[dict[str, Any], list[str]]:
    """The data yaml_plain.plain_data builds from `text` when it is a mapping in the layout above, and every text
    value in it (not the keys), in the order they stand; raises Unusual otherwise."""
    if _NOT_TAKEN.search(text):
        raise Unusual
    lines = text.split("\n")
    if len(lines) >= MAX_ITEMS:  # a block list might reach MAX_ITEMS items (one a line), which the reference refuses
        raise Unusual
    texts: list[str] = []
    root: dict[str, Any] = {}
    # the open mappings and lists, innermost last, and the column their keys or dashes stand in
    nodes: list[dict[str, Any] | list[Any]] = [root]
    columns = [0]
    waiting: tuple[dict[str, Any], str, int] | None = None  # a `key:` whose value starts on the next line, its column
    number, count = 0, len(lines)
    while number < count:
        line = lines[number]
        number += 1
        if not line or line[0] == "#":
            continue  # a blank line; a comment in the first column
        spaces, dash, key, rest = _LINE.match(line).groups()  # type: ignore[union-attr]  # (.*) matches any line
        item = dash is not None
        if not item and key is None:
            if rest:
                raise Unusual  # neither an entry nor an item: text going on, `---`, a flow mapping, a quoted key
            continue  # a line of spaces
        column = len(spaces)
        if waiting is not None:
            _nested(waiting, column, item, nodes, columns)
            waiting = None
        holder = nodes[-1]
        if columns[-1] != column or (type(holder) is list) is not item:
            holder = _holder(nodes, columns, column, item)
        if item:
            if key is None:  # a list item that is a value
                value, number = _value(rest.rstrip(" "), column, lines, number, texts, len(nodes))
                holder.append(value)  # type: ignore[union-attr]
                continue
            _depth(len(nodes))  # a list item that is a mapping: its keys stand two columns in
            holder.append(holder := {})  # type: ignore[union-attr]
            column += 2
            nodes.append(holder)
            columns.append(column)
        if key in holder:
            raise Unusual  # a repeated key
        key = intern(key)
        rest = rest.rstrip(" ")
        if not rest:
            waiting = (holder, key, column)  # type: ignore[assignment]
            continue
        holder[key], number = _value(rest, column, lines, number, texts, len(nodes))  # type: ignore[call-overload]
    if waiting is not None or not root:
        raise Unusual  # a key with no value (null, or a mistake the reference words), nothing at all
    return root, texts


def _nested(waiting: tuple[dict[str, Any], str, int], column: int, item: bool,
            nodes: list[dict[str, Any] | list[Any]], columns: list[int]) -> None:
    """Open the mapping or list that a waiting key's value is, begun by the line after it, in `column`."""
    mapping, key, key_column = waiting
    # a list may stand in its key's column; a mapping stands further in
    if column < key_column or (column == key_column and not item):
        raise Unusual
    _depth(len(nodes))
    node: dict[str, Any] | list[Any] = [] if item else {}
    mapping[key] = node
    nodes.append(node)
    columns.append(column)


def _holder(nodes: list[dict[str, Any] | list[Any]], columns: list[int], column: int,
            item: bool) -> dict[str, Any] | list[Any]:
    """The open mapping (or list, for an item) that a line in `column` belongs to; those it ends are closed. A line
    further in than the innermost (with no key waiting) would go on with the last value: Unusual."""
    while columns[-1] > column or (columns[-1] == column and not item and type(nodes[-1]) is list):
        nodes.pop()  # (a list in its key's column ends at that mapping's next key; the root is a mapping)
        columns.pop()
    if columns[-1] != column or (type(nodes[-1]) is list) is not item:
        raise Unusual
    return nodes[-1]


def _depth(open_now: int) -> None:
    if open_now + 1 >= MAX_DEPTH:  # the loop over events gives up on a node as deep as this (its stack has the root)
        raise Unusual


def _value(rest: str, column: int, lines: list[str], number: int, texts: list[str], depth: int) -> tuple[Any, int]:
    """The value that `rest` (a line's rest, stripped) starts, of an entry or item in `column`, and the number of
    the line after it (folded text goes on over the lines below)."""
    if not rest:
        raise Unusual  # an empty list item: null, or a mistake the reference words
    first = rest[0]
    if first == "[":
        _depth(depth)
        while rest[-1] != "]":  # a list going on over the lines below, each further in than its key or dash
            body = lines[number].lstrip(" ") if number < len(lines) else ""
            if not body or len(lines[number]) - len(body) <= column:
                raise Unusual
            rest = rest + " " + body.rstrip(" ")  # (a line break in a list is a space)
            number += 1
        if len(rest) > MAX_ITEMS:  # a shorter one has fewer items than the reference allows (each takes a character)
            raise Unusual
        return _words(rest, texts, depth), number
    if first == "'":
        match = _SINGLE.match(rest)
        raw = None if match is None else match.group(1).replace("''", "'")
    elif first == '"':
        match = _DOUBLE.match(rest)
        raw = None if match is None else match.group(1)
    elif rest == ">-":
        raw, number = _folded(lines, number, column)
    elif first not in _INDICATORS and ": " not in rest and " #" not in rest and rest[-1] != ":":
        # plain text on one line: nothing in it makes it a key or a comment (a tab was refused with the file)
        raw, first = rest, ""
    else:
        raw = None
    if raw is None:
        raise Unusual
    return taken_scalar(raw, first, texts), number


def taken_scalar(raw: str, style: str | None, texts: list[str]) -> Any:
    """The value of a scalar as written (`raw`, in `style`: None or "" when plain), added to `texts` when it is
    text; Unusual when the reference would report it: plain text other YAML tools read differently, or a
    double-quoted text whose escapes make a character the text checks refuse. Both fast readers' scalars."""
    value, ambiguity = scalar_value(raw, style)
    if ambiguity or (style == '"' and forbidden_characters(raw)):
        raise Unusual
    if type(value) is str:
        if len(value) <= SHORT:
            value = intern(value)
        texts.append(value)
    return value


def _words(rest: str, texts: list[str], depth: int) -> list[Any]:
    """A flow list of plain words, or of mappings of plain words: `[a, b.c, 1]`, `[{a: b, c: d}]`."""
    inner = rest[1:-1]
    if "{" in inner:
        _depth(depth + 1)
        if not _MAPPINGS.fullmatch(inner):
            raise Unusual
        return [_word_mapping(body, texts) for body in _MAPPING.findall(inner)]
    if not _WORDS.fullmatch(inner):
        raise Unusual
    return [taken_scalar(word.strip(" "), None, texts) for word in inner.split(",")] if inner.strip(" ") else []


def _word_mapping(body: str, texts: list[str]) -> dict[str, Any]:
    mapping: dict[str, Any] = {}
    for entry in body.split(","):
        match = _WORD_ENTRY.fullmatch(entry)
        if match is None or match.group(1) in mapping:
            raise Unusual
        mapping[intern(match.group(1))] = taken_scalar(match.group(2), None, texts)
    return mapping


def _folded(lines: list[str], number: int, column: int) -> tuple[str, int]:
    """The `>-` text on the lines from `number` on, further in than `column`: each line at one indentation and not
    ending in a space (else not every line break would become a space), joined by spaces. It ends at a blank line
    or one further out; a line of text after it stands where nothing is open, which the caller refuses. A blank
    line with spaces past the indentation is text (a line break and those spaces): Unusual."""
    parts: list[str] = []
    indent = 0
    while number < len(lines):
        line = lines[number]
        body = line.lstrip(" ")
        if not body:
            while number < len(lines) and not lines[number].strip(" "):  # the whole run of blank lines
                if len(lines[number]) > indent:
                    raise Unusual
                number += 1
            break
        indentation = len(line) - len(body)
        if parts and indentation < indent:
            break
        if not parts:
            if indentation <= column:
                raise Unusual  # no text: an empty value
            indent = indentation
        if indentation != indent or body[-1] == " ":
            raise Unusual
        parts.append(body)
        number += 1
    if not parts:
        raise Unusual
    return " ".join(parts), number
