"""Checks on characters and text values that no schema can express.

Characters are scanned over the whole file (comments too), so a hidden bidi override cannot slip through
anywhere; text values are checked for look-alike letter mixes and for spreadsheet formulas.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from typing import Any

from confusable_homoglyphs import categories

from belarus_releases.problems import JsonPath, Position, Problem, field_name

MAX_PER_TYPE = 20

_CHARACTER_CLASSES: list[tuple[str, re.Pattern[str]]] = [
    # C0 and C1 controls (tab, LF and CR before LF excepted), and the characters YAML counts as line breaks
    # but editors may not (NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR), which would shift every line number after them
    ("control-character", re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029]|\r(?!\n)")),
    ("bidi-character", re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")),
    ("invisible-character", re.compile("[\u200b\u200c\u200d\u2060-\u2064\ufeff\u00ad\u180e]")),
]
# Every character a class above can match (a lone CR among them) in one set: one fast pass over a clean text
# (nearly every file and value) stands for the scan class by class.
_ANY_FORBIDDEN = re.compile("[\r" + "".join(pattern.pattern.split("|")[0][1:-1] for _, pattern in _CHARACTER_CLASSES) + "]")
_WORD = re.compile(r"\w+")
_ALNUM = re.compile(r"[^\W_]")  # what str.isalnum() accepts: \w is exactly the alphanumerics and "_"
# Characters that belong to no one script (digits, punctuation, combining marks such as a stress accent).
_ANY_SCRIPT = {"COMMON", "INHERITED", "Unknown"}
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LONE_CR = re.compile(r"\r(?!\n)")  # already a control character
_NUMBER_TEXT = re.compile(r"^[-+]?[0-9]+([.,][0-9]+)?$")
# Sources and contributors write quote marks and apostrophes in many styles (« “ ’ ʼ); read as one, a quote
# copied from a source with its marks retyped still matches, and п’ять is still a number word.
_DOUBLE_QUOTES, _SINGLE_QUOTES = "«»„“”‟″", "‘’‚‛ʼ′`"
QUOTE_MARKS = str.maketrans({c: '"' for c in _DOUBLE_QUOTES} | {c: "'" for c in _SINGLE_QUOTES})
# The same as two regex passes: str.translate looks each character of a non-ASCII text up in a dict, which takes
# several times as long as scanning for the few marks there are.
_DOUBLE_QUOTE = re.compile(f"[{re.escape(_DOUBLE_QUOTES)}]")
_SINGLE_QUOTE = re.compile(f"[{re.escape(_SINGLE_QUOTES)}]")
_SPACE = re.compile(r"\s+")


def plain_quotes(text: str) -> str:
    """`text.translate(QUOTE_MARKS)`: every quote mark and apostrophe made a plain one."""
    return _SINGLE_QUOTE.sub("'", _DOUBLE_QUOTE.sub('"', text))


def normalise(text: str) -> str:
    """Text as quotes are compared with sources: NFC, one space for any run of whitespace, plain quote marks."""
    return _SPACE.sub(" ", plain_quotes(unicodedata.normalize("NFC", text))).strip()


class LineIndex:
    """Turns character offsets into 1-based (line, column) and back."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        # the last column inside each line (from 1; limits[0] is unused): a position within them needs no clamping
        starts = self.starts
        self.limits = [0, *(end - begin for begin, end in itertools.pairwise(starts)),
                       len(text) - starts[-1] + 1]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1

    def offset(self, line: int, col: int) -> int:
        return self.starts[min(line, len(self.starts)) - 1] + col - 1

    def clamp(self, line: int, col: int) -> Position:
        """The nearest place inside the file: libyaml reports the end of a file without a final newline on the line after it."""
        line = max(1, min(line, len(self.starts)))
        end = self.starts[line] - 1 if line < len(self.starts) else len(self.text)
        return line, max(1, min(col, end - self.starts[line - 1] + 1))

    def clamp_problem(self, problem: Problem) -> Problem:
        if problem.line == 0:
            return problem
        line, col = self.clamp(problem.line, problem.col)
        return problem if (line, col) == (problem.line, problem.col) else replace(problem, line=line, col=col)


def describe(char: str) -> str:
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def scan_characters(index: LineIndex, file: str) -> list[Problem]:
    """Every forbidden character in the file, each at its line and column (at most MAX_PER_TYPE of a kind)."""
    text = index.text
    problems: list[Problem] = []
    if not _ANY_FORBIDDEN.search(text):
        return problems
    for type_, pattern in _CHARACTER_CLASSES:
        matches = list(pattern.finditer(text))
        if matches and type_ == "control-character" and "\n" not in text.replace("\r\n", ""):
            matches = [m for m in matches if m.group() != "\r"] or matches[:1]  # old Mac line ends: say it once
        for match in matches[:MAX_PER_TYPE]:
            line, col = index.position(match.start())
            problems.append(Problem(file, line, col, type_, _advice(match.group())))
        if len(matches) > MAX_PER_TYPE:
            line, col = index.position(matches[MAX_PER_TYPE].start())
            more = len(matches) - MAX_PER_TYPE
            problems.append(Problem(file, line, col, type_, f"{more} more like it from here on; delete them"))
    return problems


def _advice(char: str) -> str:
    if char == "\r":
        return "U+000D CARRIAGE RETURN without a line feed here; save the file with LF line ends"
    return f"{describe(char)} here; delete it"


def is_clean(text: str) -> bool:
    """True when the text holds no character that scan_characters reports: nearly every file, in one pass."""
    return not _ANY_FORBIDDEN.search(text)


def forbidden_characters(value: str) -> list[tuple[str, str]]:
    """The problem type and the character, for each distinct forbidden character in a value."""
    if not _ANY_FORBIDDEN.search(value):
        return []
    return [(type_, char) for type_, pattern in _CHARACTER_CLASSES
            for char in dict.fromkeys(match.group()[0] for match in pattern.finditer(value))]


def _strings(value: dict[str, Any] | list[Any], path: JsonPath = (),
             found: list[tuple[JsonPath, str | int, str]] | None = None) -> list[tuple[JsonPath, str | int, str]]:
    """Every string inside a mapping or list, depth first in the data's order: the path of what holds it, its key
    there, and the string. (A list, not a generator, and a call for each mapping and list only, not for each value:
    this runs for every value of every record. A string's own path is made only for a problem.)"""
    found = [] if found is None else found
    for key, item in value.items() if isinstance(value, dict) else enumerate(value):
        if isinstance(item, str):
            found.append((path, key, item))
        elif isinstance(item, dict | list):
            _strings(item, (*path, key), found)
    return found


def mixed_script_words(value: str) -> list[str]:
    """Words that mix letters of two scripts ('Кoул' with a Latin o, 'Cοale' with a Greek omicron) or use look-alike
    forms of letters (fullwidth 'Ｍ', mathematical '𝐌'), following Unicode's mixed-script rule (UTS #39)."""
    if value.isascii() or _plainly_unmixed(value):
        return []  # nearly every text; test_characters.py proves this shortcut gives what the word-by-word rule gives
    return word_by_word(value)


def word_by_word(value: str) -> list[str]:
    """The rule itself, word by word: what mixed_script_words finds, however slowly."""
    return [word for word in _WORD.findall(value) if not word.isascii() and _odd_letters(word)[1]]


def _plainly_unmixed(value: str) -> bool:
    """True when no word of the text can be mixed-script, decided in a few passes of C code.

    The text in cp1251 (one byte for each ASCII, Cyrillic or common punctuation character; anything else goes to
    the rule itself) becomes one letter per character: L for an ordinary Latin letter, C for an ordinary Cyrillic
    one, X for any other word character, a space outside words, while word characters of no script (digits, "_")
    are dropped. A word is then mixed exactly when L and C stand side by side, and undecided where an X stands."""
    try:
        encoded = value.encode("cp1251")
    except UnicodeEncodeError:
        return False
    table, neutral = _script_bytes()
    letters = encoded.translate(table, neutral)
    return b"X" not in letters and b"LC" not in letters and b"CL" not in letters


@functools.cache
def _script_bytes() -> tuple[bytes, bytes]:
    """For _plainly_unmixed: each cp1251 byte's letter (L, C, X or space), and the bytes of no-script word characters."""
    table, neutral = bytearray(b" " * 256), bytearray()
    for byte in range(256):
        try:
            char = bytes([byte]).decode("cp1251")
        except UnicodeDecodeError:
            continue  # no character is written as this byte
        if not _WORD.match(char):
            continue
        script = "X" if _look_alike_form(char) else _script(char)
        if script in _ANY_SCRIPT:
            neutral.append(byte)
        else:
            table[byte] = {"LATIN": ord("L"), "CYRILLIC": ord("C")}.get(script, ord("X"))
    return bytes(table), bytes(neutral)


@functools.lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """The char's script in Unicode's data (as confusable_homoglyphs ships it): LATIN, CYRILLIC, GREEK, COMMON…"""
    return str(categories.alias(char))


def _look_alike_form(char: str) -> bool:
    """A compatibility form of a letter (fullwidth, mathematical, ligature): NFKC makes it an ordinary letter."""
    return unicodedata.category(char).startswith("L") and unicodedata.normalize("NFKC", char) != char


def _odd_letters(word: str) -> tuple[str, list[str]]:
    """The script most of the word's letters are in, and the letters that are not in it or are look-alike forms."""
    scripts = [_script(char) for char in word]
    counted = Counter(script for script in scripts if script not in _ANY_SCRIPT)
    main = counted.most_common(1)[0][0] if counted else "COMMON"
    odd = [char for char, script in zip(word, scripts, strict=True)
           if (script not in _ANY_SCRIPT and script != main) or _look_alike_form(char)]
    return main, list(dict.fromkeys(odd))


def _mixed_script(index: LineIndex, span: tuple[Position, Position], word: str, file: str) -> Problem:
    main, letters = _odd_letters(word)
    shown = ", ".join(f"'{c}' (U+{ord(c):04X})" for c in letters)
    found = _find(index, span, word)
    first_odd = word.index(letters[0])
    where = (found[0], found[1] + first_odd) if found else span[0]
    others = " and ".join(dict.fromkeys(_script(c).title() for c in letters if _script(c) not in (*_ANY_SCRIPT, main)))
    if others:
        message = (f"'{word}' is {main.title()} but has the {others} letter(s) {shown}, which look the same; "
                   "retype it in one alphabet")
    else:
        message = (f"'{word}' has {shown}, a look-alike form of an ordinary letter (fullwidth, mathematical or a "
                   "ligature); retype it with ordinary letters")
    return Problem(file, *where, "mixed-script", message)


Places = tuple[LineIndex, Mapping[JsonPath, Position], Mapping[JsonPath, Position]]


def check_values(data: dict[str, Any], file: str, where: Callable[[], Places]) -> list[Problem]:
    """Mixed-script words and formula-like text in every string value of a loaded file (a mapping).

    `where` gives the file's line index and where each value starts and ends; it is called only for a problem (the
    fast reader, which keeps no positions, then hands the file to the reference reader). A mixed-script word is
    located at its odd letter when the word stands verbatim between the value's start and end; otherwise (written
    with escapes, or not in NFC) at the start of the value."""
    return value_problems(_strings(data), file, where)


def value_problems(values: Iterable[tuple[JsonPath, str | int, str]], file: str, where: Callable[[], Places]) -> list[Problem]:
    """What check_values finds, in string values given with where each stands (the path of what holds it, and its
    key there): a reader that has the values at hand gives them without a second walk over the data."""
    problems: list[Problem] = []
    for holder, key, value in values:
        if value and not _ALNUM.search(value):
            # a blank quote or name form would otherwise "occur" in every source
            path = (*holder, key)
            problems.append(Problem(file, *where()[1].get(path, (1, 1)), "no-words",
                                    f"{field_name(path)} has no letters or digits; write the words, or remove the field"))
            continue
        words = mixed_script_words(value)
        if words:  # rare: where the value stands is looked up only for a problem
            path = (*holder, key)
            index, positions, ends = where()
            start = positions.get(path, (1, 1))
            span = (start, ends.get(path, start))
            problems.extend(_mixed_script(index, span, word, file) for word in dict.fromkeys(words))
        if value.startswith(_FORMULA_START) and not _NUMBER_TEXT.match(value) and not _LONE_CR.match(value):
            start = where()[1].get((*holder, key), (1, 1))
            shown = {"\t": "a tab", "\r": "a carriage return"}.get(value[0], f"'{value[0]}'")
            problems.append(Problem(file, *start, "formula-like",
                                    f"text starting with {shown} runs as a formula in spreadsheets; "
                                    "reword it so it starts with a letter or digit"))
    return problems


def _find(index: LineIndex, span: tuple[Position, Position], word: str) -> Position | None:
    """Where the whole word first stands verbatim in the value's text; None if it does not."""
    begin, end = index.offset(*span[0]), index.offset(*span[1])
    match = re.compile(rf"(?<!\w){re.escape(word)}(?!\w)").search(index.text, begin, max(end, begin))
    return index.position(match.start()) if match else None


def too_large(name: str, size: int, limit: int, advice: str) -> Problem:
    return Problem(name, 1, 1, "file-too-large", f"the file is {size:,} bytes; the limit is {limit:,} bytes: {advice}")


def decode_text(raw: bytes, name: str, *, limit: int, empty: str, too_long: str) -> tuple[str | None, list[Problem]]:
    """The text of an input file, read strictly: UTF-8 without byte-order mark, not empty, at most `limit` bytes.

    The one way every input (records, registries, metadata, source documents) is read: a bad byte is a located
    problem, never silently replaced."""
    if len(raw) > limit:
        return None, [too_large(name, len(raw), limit, too_long)]
    if not raw.strip():
        return None, [Problem(name, 1, 1, "empty-file", empty)]
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(raw) > 1 and (raw[0] == 0 or raw[1] == 0)):
        return None, [Problem(name, 1, 1, "not-utf8", "the file is UTF-16; save it as UTF-8")]
    if raw.startswith(b"\xef\xbb\xbf"):
        return None, [Problem(name, 1, 1, "byte-order-mark",
                              "the file starts with a UTF-8 byte-order mark (U+FEFF); save it without one")]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        col = len(raw[raw.rfind(b"\n", 0, error.start) + 1:error.start].decode("utf-8", "replace")) + 1
        byte = raw[error.start:error.start + 1].hex()
        return None, [Problem(name, line, col, "not-utf8",
                              f"byte 0x{byte} is not UTF-8 (is the file in cp1251 or another code page?); save it as UTF-8")]
