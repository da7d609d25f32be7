"""Check, schemas: a compiled test of whether a file is valid, so that only invalid files go through jsonschema.

jsonschema stays the reference and writes every message; jsonschema-rs (about 100 times faster) only says
valid or not, and it must say so exactly as jsonschema would. Three differences are removed here:

- `format`: jsonschema-rs calls jsonschema's own format checker (its `date` accepts year 0000, Python's does not);
- `pattern`: jsonschema uses Python's `re`, jsonschema-rs ECMA 262. A pattern is rewritten where they differ
  (`$` also matches before a final newline in Python; `\\s` takes in more characters there) and only if it uses
  nothing else whose meaning differs (`.`, `\\d`, `\\w`, `\\b`, lookarounds, flags...); otherwise the schema is
  left to jsonschema alone;
- uniqueItems, which our validator skips on a list longer than maxItems: that list is invalid either way.

Anything jsonschema-rs cannot take (a lone surrogate escaped into a string) counts as "not known valid".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from functools import cache, partial
from typing import Any

import jsonschema_rs

Verdict = Callable[[Any], bool]

# Keywords whose value is a schema, a list of schemas, or a mapping of names to schemas (Draft 2020-12).
_ONE = ("items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAPPING = ("properties", "$defs", "definitions", "dependentSchemas")
# A pattern whose every token is one of these means the same in both dialects (after \s and $ are rewritten).
_TOKEN = re.compile(r"""
    \\s | \\S                              # whitespace (rewritten)
  | \\[^A-Za-z0-9]                         # an escaped punctuation mark
  | \[\^?(?:\\[^A-Za-z0-9]|\\s|[^\]\\\[])+\]  # a set of plain characters, ranges, escaped marks and \s
  | \{[0-9]+(?:,[0-9]*)?\}                 # a counted repeat
  | \((?!\?)                               # a plain group
  | [^\\.\[\]{}()$]                        # any other character, operators * + ? | ^ ) included
  | \)
  | \$\Z                                   # the end, as the last token
""", re.VERBOSE)


def fast_verdict(schema: Any, format_checker: Any) -> Verdict:
    """A test that says True exactly when jsonschema (Draft 2020-12, formats checked by `format_checker`) finds no
    error in an instance; a test that always says False when the schema cannot be compiled equivalently."""
    translated = _translated(schema) if isinstance(schema, dict) else None
    if translated is None:
        return _unknown
    formats: dict[str, Callable[..., bool]] = {name: partial(format_checker.conforms, format=name)
                                               for name in _formats(schema)}
    try:
        validator = jsonschema_rs.Draft202012Validator(translated, formats=formats, validate_formats=True, offline=True)
    except Exception:  # a rewritten pattern jsonschema-rs refuses, for one: jsonschema alone decides
        return _unknown

    def verdict(instance: Any) -> bool:
        try:
            return bool(validator.is_valid(instance))
        except Exception:  # a value jsonschema-rs cannot convert: let jsonschema decide
            return False

    return verdict


def _unknown(_: Any) -> bool:
    return False


def _subschemas(schema: Any) -> Iterator[dict[str, Any]]:
    """Every schema inside `schema`, itself included (never a const, enum or default value)."""
    if not isinstance(schema, dict):
        return
    yield schema
    for key in _ONE:
        yield from _subschemas(schema.get(key))
    for key in _LIST:
        for item in schema.get(key, []) if isinstance(schema.get(key), list) else []:
            yield from _subschemas(item)
    for key in (*_MAPPING, "patternProperties"):
        if isinstance(schema.get(key), dict):
            for item in schema[key].values():
                yield from _subschemas(item)


def _formats(schema: dict[str, Any]) -> set[str]:
    return {node["format"] for node in _subschemas(schema) if isinstance(node.get("format"), str)}


def _translated(schema: dict[str, Any]) -> dict[str, Any] | None:
    """The schema with every pattern in ECMA 262 meaning what it means in Python; None if one cannot be."""
    if any(key in node for node in _subschemas(schema) for key in ("$dynamicRef", "$recursiveRef")):
        return None
    rewritten: dict[str, Any] | None = _rewrite(schema)
    return rewritten


def _rewrite(node: Any) -> Any:
    """A copy of a schema node with its patterns rewritten (or None, raised as a failure, if one cannot be)."""
    if not isinstance(node, dict):
        return node
    copy: dict[str, Any] = dict(node)
    if isinstance(node.get("pattern"), str):
        copy["pattern"] = ecma_pattern(node["pattern"])
        if copy["pattern"] is None:
            return None
    if isinstance(node.get("patternProperties"), dict):
        rewritten = {ecma_pattern(key): value for key, value in node["patternProperties"].items()}
        if None in rewritten or len(rewritten) != len(node["patternProperties"]):
            return None
        copy["patternProperties"] = rewritten
    for key in _ONE:
        if key in node:
            copy[key] = _rewrite(node[key])
            if copy[key] is None and node[key] is not None:
                return None
    for key in _LIST:
        if isinstance(node.get(key), list):
            copy[key] = [_rewrite(item) for item in node[key]]
            if any(new is None and old is not None for new, old in zip(copy[key], node[key], strict=True)):
                return None
    for key in (*_MAPPING, "patternProperties"):
        if isinstance(copy.get(key), dict):
            copy[key] = {name: _rewrite(item) for name, item in copy[key].items()}
            if any(item is None for item in copy[key].values()):
                return None
    return copy


def ecma_pattern(pattern: str) -> str | None:
    """`pattern` (Python's `re`, searched) written in ECMA 262 with the same meaning, or None if it may differ."""
    tokens: list[str] = []
    at = 0
    while at < len(pattern):
        match = _TOKEN.match(pattern, at)
        if not match or (match.group() == "^" and tokens and tokens[-1] not in ("(", "|")):
            return None  # an unknown construct, or ^ in the middle (no such thing in our schemas)
        tokens.append(match.group())
        at = match.end()
    return "".join(_ecma_token(token) for token in tokens)


def _ecma_token(token: str) -> str:
    spaces = _whitespace()
    if token == "$":
        return "\n?$"  # Python's $ also matches before a final newline
    if token == "\\s":
        return f"[{spaces}]"
    if token == "\\S":
        return f"[^{spaces}]"
    if token.startswith("[") and "\\s" in token:
        return token.replace("\\s", spaces)
    return token


@cache
def _whitespace() -> str:
    """What Python's \\s matches in a text pattern (str.isspace), written as the characters themselves.

    Every such character is below U+10000 (test_fast_schema.py checks the whole range)."""
    return "".join(chr(code) for code in range(0x10000) if chr(code).isspace())
