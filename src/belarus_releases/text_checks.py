"""Checks on characters and text values that no schema can express.

Characters are scanned over the whole file (comments too), so a hidden bidi override cannot slip through
anywhere; text values are checked for look-alike letter mixes and for spreadsheet formulas.
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Iterator
from typing import Any

from .problems import Problem

MAX_PER_TYPE = 20

_CHARACTER_CLASSES: list[tuple[str, re.Pattern[str]]] = [
    ("control-character", re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")),
    ("bidi-character", re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")),
    ("invisible-character", re.compile("[\u200b\u200c\u200d\u2060-\u2064\ufeff\u00ad\u180e]")),
]
_WORD = re.compile(r"\w+")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_CYRILLIC = re.compile(r"[\u0400-\u052f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER_TEXT = re.compile(r"^[-+]?[0-9]+([.,][0-9]+)?$")


class LineIndex:
    """Turns character offsets into 1-based (line, column) and back."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> tuple[int, int]:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def offset(self, line: int, col: int) -> int:
        return self.starts[min(line, len(self.starts)) - 1] + col - 1


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def scan_characters(text: str, file: str) -> list[Problem]:
    """Every forbidden character in the file, each at its line and column (at most MAX_PER_TYPE of a kind)."""
    index = LineIndex(text)
    problems: list[Problem] = []
    for type_, pattern in _CHARACTER_CLASSES:
        matches = list(pattern.finditer(text))
        for match in matches[:MAX_PER_TYPE]:
            line, col = index.position(match.start())
            problems.append(Problem(file, line, col, type_, f"{_describe(match.group()[0])} here; delete it"))
        if len(matches) > MAX_PER_TYPE:
            line, col = index.position(matches[MAX_PER_TYPE].start())
            problems.append(Problem(file, line, col, type_, f"{len(matches) - MAX_PER_TYPE} more like it from here on"))
    return problems


def _strings(value: Any, path: tuple[str | int, ...] = ()) -> Iterator[tuple[tuple[str | int, ...], str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, path + (key,))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from _strings(item, path + (number,))


def mixed_script_words(value: str) -> list[str]:
    """Words that mix Latin and Cyrillic letters, such as 'Кoул' with a Latin o."""
    return [w for w in _WORD.findall(value) if _LATIN.search(w) and _CYRILLIC.search(w)]


def check_values(data: Any, positions: dict[tuple[str | int, ...], tuple[int, int]], text: str | None, file: str) -> list[Problem]:
    """Mixed-script words and formula-like text in every string value of a loaded file."""
    index = LineIndex(text) if text is not None else None
    problems: list[Problem] = []
    for path, value in _strings(data):
        start = positions.get(path, (1, 1))
        for word in mixed_script_words(value):
            where = _find(index, start, word)
            latin = "".join(sorted(set(_LATIN.findall(word))))
            problems.append(Problem(file, *where, "mixed-script",
                                    f"'{word}' mixes Cyrillic with the Latin letter(s) '{latin}'; retype it in one alphabet"))
        if value.startswith(_FORMULA_START) and not _NUMBER_TEXT.match(value):
            shown = repr(value[:1]) if value[0] in "\t\r" else f"'{value[0]}'"
            problems.append(Problem(file, *start, "formula-like",
                                    f"text starting with {shown} runs as a formula in spreadsheets; reword it so it starts with a letter or digit"))
    return problems


def _find(index: LineIndex | None, start: tuple[int, int], word: str) -> tuple[int, int]:
    if index is None:
        return start
    found = index.text.find(word, index.offset(*start))
    return index.position(found) if found >= 0 else start
