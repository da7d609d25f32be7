"""jsonschema-rs decides first which files are valid (check/fast_schema.py); jsonschema stays the reference. Both
must give the same verdict on every file: the fixtures, the real records and registries, the hostile corpus, and
mutations of valid files (a field dropped or added, wrong types, impossible dates, strings too long or with a
final newline, odd whitespace, lists too long or repeating an item). A verdict of "valid" skips jsonschema, so a
wrong one would hide problems; a wrong "invalid" would only cost time, and the tests forbid both."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from belarus_releases.check import fast_schema
from belarus_releases.check.fast_schema import ecma_pattern, fast_verdict
from belarus_releases.check.schema import schema_validator, schema_verdict
from belarus_releases.check.yaml_reader import load_bytes
from corpus import BASE_RECORD, FIXTURES, MINI, invalid_cases

ROOT = Path(__file__).resolve().parent.parent
SCHEMAS = ("record", "people", "sources", "assertions")
SPACES = "".join(chr(code) for code in range(0x3001) if chr(code).isspace())


def _agree(name: str, data: Any) -> None:
    path = ROOT / "schema" / f"{name}.schema.json"
    reference = schema_validator(path).is_valid(data)
    assert schema_verdict(path)(data) == reference, (name, reference, str(data)[:300])


def _inputs() -> Iterator[tuple[str, bytes]]:
    for folder in (FIXTURES, ROOT / "records", ROOT / "registry"):
        for path in sorted(folder.rglob("*.yml")):
            yield str(path.relative_to(ROOT)), path.read_bytes()
    for case in invalid_cases():
        if case.name != "too-deep-5000-brackets":  # no data; a tenth of a second in the pure-Python parser
            yield case.name, case.raw
    yield "assertions.yml", (ROOT / "assertions.yml").read_bytes()


def test_no_schema_falls_back_to_jsonschema_alone() -> None:
    for name in SCHEMAS:
        assert schema_verdict(ROOT / "schema" / f"{name}.schema.json") is not fast_schema._unknown, name


def _schema_for(name: str) -> str:
    stem = Path(name).stem
    return stem if stem in SCHEMAS else "record"


def test_the_verdicts_agree_on_every_file() -> None:
    checked = 0
    for name, raw in _inputs():
        data = load_bytes(raw, name).data
        if data is not None:
            checked += 1
            _agree(_schema_for(name), data)
    assert checked > 100


# Mutations, value by value

def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    children = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, item in children:
        yield from _paths(item, (*path, key))


def _with(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    changed = copy.deepcopy(data)
    if not path:
        return new
    parent = changed
    for key in path[:-1]:
        parent = parent[key]
    if new is _DROP:
        del parent[path[-1]]
    else:
        parent[path[-1]] = new
    return changed


_DROP = object()
TEXTS = ["", "x" * 3000, "0000-01-01", "2025-02-29", "2024-02-29", "2025-13-01", "٢٠٢٥-٠١-٠١", "2025-09", "2025",
         "2025-09-11\n", "2025-09-11-x", "2025-09-11-X", "a--b", "abc.txt", "../a.txt", "release.count\n",
         "officials.x", "https://x", "http://a b", "http://a\x1cb", "http://a\ufeffb", "http://ab\n", "\ufeff"]
NUMBERS = [-1, 0, 10**9, "3", True, None]


def _variants(value: Any, first: bool) -> list[Any]:
    if isinstance(value, dict):
        return [[], "x", {**value, "extra": 1}]
    if isinstance(value, list):
        return [[], {"a": 1}, value + value[:1], (value * 200)[:120]]
    if isinstance(value, bool) or value is None:
        return [1, "true"]
    if isinstance(value, int):
        return NUMBERS
    return [5, None, True, value + "\n", value * 30, " " + value, *(TEXTS if first else ())]


def _mutations(data: dict[str, Any]) -> Iterator[Any]:
    """Each value dropped and replaced by others; every odd text goes once into each field (by its name)."""
    seen: set[str] = set()
    for path in _paths(data):
        if path:
            yield _with(data, path, _DROP)
        field = next((str(part) for part in reversed(path) if isinstance(part, str)), "")
        for new in _variants(_value(data, path), field not in seen):
            yield _with(data, path, new)
        seen.add(field)


def _value(data: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        data = data[key]
    return data


@pytest.mark.parametrize(("schema", "file"), [("record", BASE_RECORD), ("people", MINI / "registry" / "people.yml"),
                                              ("sources", MINI / "registry" / "sources.yml"),
                                              ("assertions", MINI / "assertions.yml")], ids=lambda value: str(value)[-20:])
def test_the_verdicts_agree_on_mutations(schema: str, file: Path) -> None:
    data = load_bytes(file.read_bytes(), "x.yml").data
    assert isinstance(data, dict)
    for mutated in _mutations(data):
        _agree(schema, mutated)


def test_a_value_jsonschema_rs_cannot_take_is_left_to_jsonschema() -> None:
    # A lone surrogate (YAML's "\ud800") cannot cross into Rust: "not known valid", and jsonschema decides.
    verdict = fast_verdict({"type": "string"}, jsonschema.FormatChecker())
    assert verdict("a") and not verdict("\ud800")


# Patterns: Python's re and ECMA 262 read some constructs differently

OUR_PATTERNS = sorted({node["pattern"] for name in SCHEMAS
                       for node in fast_schema._subschemas(json.loads((ROOT / "schema" / f"{name}.schema.json").read_text()))
                       if "pattern" in node})
PROBES = ["", "a", "2025", "2025\n", "2025\n\n", "\n2025", "2025-09-11", "2025-09-11\n", "2025-09-11-a-b", "x.txt",
          "x.txt\n", "officials.a-b", "release.categories.0", "https://a", "https://a\n", "https://a b",
          *(f"https://a{space}b" for space in SPACES), *(f"{space}2025" for space in SPACES), "a" * 64, "0" * 64]


@pytest.mark.parametrize("pattern", [*OUR_PATTERNS, r"^\S+$", r"\s", r"^a(b|c)?$", r"[\s]x"])
def test_a_rewritten_pattern_matches_what_python_matches(pattern: str) -> None:
    assert ecma_pattern(pattern) is not None
    verdict = fast_verdict({"pattern": pattern}, jsonschema.FormatChecker())
    for probe in PROBES:
        assert verdict(probe) == bool(re.search(pattern, probe)), (pattern, probe)


@pytest.mark.parametrize("pattern", [r"\d", r"\w+", r"\bx", "a.b", "(?i)x", "(?=a)", "a$b", "a{", "[[a]]", r"[\S]", "a^"])
def test_a_pattern_that_may_mean_something_else_leaves_the_schema_to_jsonschema(pattern: str) -> None:
    assert ecma_pattern(pattern) is None
    assert fast_verdict({"properties": {"a": {"pattern": pattern}}}, jsonschema.FormatChecker()) is fast_schema._unknown


def test_every_whitespace_character_of_python_is_in_the_first_plane() -> None:
    beyond = "".join(map(chr, range(0x10000, 0x110000)))
    assert not re.search(r"\s", beyond)
    assert fast_schema._whitespace() == SPACES
