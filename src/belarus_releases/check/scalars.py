"""What a plain YAML scalar means: only `null`, `true`/`false` and plain whole numbers are typed.

Everything else stays the text the contributor wrote. Plain text that a YAML 1.1 tool (PyYAML among them)
would read as something else (`NO`, `01234`, `1:20`, `1.10`, an unquoted date) is kept as text and
reported, with advice that fits both a text field (quote it) and a number field (write plain digits).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

_NULL = re.compile(r"^(~|null|Null|NULL)?$")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"^-?(0|[1-9][0-9]{0,14})$")

_QUOTE = "put it in quotes: '{0}'"
_TEXT_OR_NUMBER = ("if it is text, put it in quotes ('{0}'); "
                   "if it is a count, write it as a plain whole number (digits only, no leading zero)")
# (pattern, what a YAML 1.1 tool reads, what to do)
_AMBIGUOUS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$"), "a true/false value", _QUOTE),
    (re.compile(r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}([Tt ].*)?$"), "a date object", _QUOTE),
    (re.compile(r"^[-+]?0[0-7_]+$"), "an octal number", _TEXT_OR_NUMBER),
    (re.compile(r"^[-+]?0[0-9_]+$"), "a number without its leading zero", _TEXT_OR_NUMBER),
    (re.compile(r"^[-+]?0(x[0-9a-fA-F_]+|b[01_]+|o[0-7_]+)$"), "a number in another base", _TEXT_OR_NUMBER),
    (re.compile(r"^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$"), "a base-60 number", _QUOTE),
    (re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$"), "a decimal number", _TEXT_OR_NUMBER),
    (re.compile(r"^[-+]?(\.inf|\.Inf|\.INF)$|^\.(nan|NaN|NAN)$"), "a special number", _TEXT_OR_NUMBER),
    (re.compile(r"^-?[0-9]{16,}$"), "a number too long to keep exactly",
     "no count is this large: check the digits, or put it in quotes ('{0}') if it is text"),
    (re.compile(r"^[-+]?[0-9][0-9_]*([eE][-+]?[0-9]+)?$"), "a number", _TEXT_OR_NUMBER),
]
# What a plain scalar must look like for any rule above to read it as more than text: start with a digit, sign,
# dot or "~" (or be empty), or be one of the words. A word may carry one final newline, since `$` matches before one.
_NUMBER_START = frozenset(["", "\n", "~", "+", "-", ".", *"0123456789"])
_WORDS = frozenset(["null", "Null", "NULL", *_BOOL, "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO",
                    "on", "On", "ON", "off", "Off", "OFF"])


def maybe_typed(text: str) -> bool:
    """False for plain text that no rule of this module reads as anything but text: most text, decided quickly."""
    return text[:1] in _NUMBER_START or (text[:-1] if text[-1:] == "\n" else text) in _WORDS


def scalar_value(raw: str, style: str | None) -> tuple[Any, str | None]:
    """The value a scalar stands for, and, for plain text that other YAML tools read differently, a message saying so."""
    text = unicodedata.normalize("NFC", raw)
    if style or not maybe_typed(text):  # quoted or block text is always text, as is plain text no rule reads
        return text, None
    if _NULL.match(text):
        return None, None
    if text in _BOOL:
        return _BOOL[text], None
    if _INT.match(text):
        return int(text), None
    for pattern, meaning, advice in _AMBIGUOUS:
        if pattern.match(text):
            return text, f"`{raw}` is read by other YAML tools as {meaning}; {advice.format(raw)}"
    return text, None


def show_tag(tag: str) -> str:
    """A tag as the contributor wrote it: `!!binary` rather than `tag:yaml.org,2002:binary`."""
    prefix = "tag:yaml.org,2002:"
    return "!!" + tag[len(prefix):] if tag.startswith(prefix) else tag
