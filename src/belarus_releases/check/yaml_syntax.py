"""What to tell a contributor when the YAML parser gives up: the place, and our own words for the usual slips.

The parser's wording is an implementation detail (libyaml and pure-Python PyYAML word the same slip differently),
so the common cases get a sentence of ours that says what to do; only a rare case keeps the parser's words, in
parentheses. The error always comes from PyYAML's pure-Python parser (yaml_reader decides with it), whose version
the lock pins, so the same file gets the same message on every machine.
"""

from __future__ import annotations

from typing import Any

import yaml

from belarus_releases.check.characters import LineIndex, describe
from belarus_releases.problems import Position, Problem

_QUOTE_IT = "put the whole value in quotes"


def syntax_problem(name: str, error: yaml.MarkedYAMLError, index: LineIndex) -> Problem:
    """One located yaml-syntax problem for a parser error."""
    context, problem = error.context or "", error.problem or ""
    began = _pos(error.context_mark)
    place = _pos(error.problem_mark) or began or (1, 1)
    if began and "end of stream" in problem:
        place = began  # an unclosed quote or bracket: point at where it opened, not at the end of the file
    return Problem(name, *place, "yaml-syntax", _message(context, problem, index, place, began))


def _message(context: str, problem: str, index: LineIndex, place: Position, began: Position | None) -> str:
    here = index.text[index.offset(*place):][:1]
    if "cannot start any token" in problem:
        if here == "\t":
            return "a tab here: indent with spaces, not tabs"
        return f"a value cannot start with {describe(here) if here.isspace() else repr(here)} unless it is quoted; {_QUOTE_IT}"
    if "quoted scalar" in context and "end of stream" in problem:
        return "this quoted text is never closed; add the closing quote mark"
    if "unknown escape character" in problem:
        return "a backslash here starts an escape YAML does not know; write \\\\ for a backslash, or use single quotes"
    if "mapping values are not allowed" in problem:
        return f"a colon followed by a space inside unquoted text; {_QUOTE_IT}"
    if "could not find expected ':'" in problem:
        return ("this line is not a `field: value` line; add the colon, or indent it if it continues the value above, "
                "or put a multi-line value in quotes")
    if context.startswith("while parsing a flow"):
        opened = f" (it opened at line {began[0]}, column {began[1]})" if began else ""
        return f"a [list] or {{mapping}} is not closed here{opened}; separate its items with commas and close it"
    if context == "while parsing a block mapping":
        return ("this line does not line up with the fields above it; check its indentation, and quote a value "
                "that contains quote marks")
    detail = "; ".join(part for part in (context, problem) if part)
    return f"the YAML cannot be read here ({detail}); check the quotes, brackets and indentation"


def _pos(mark: Any) -> Position | None:
    return (mark.line + 1, mark.column + 1) if mark is not None else None
