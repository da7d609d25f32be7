"""Properties: whatever bytes or YAML a stranger sends, loading and validating never crash; the answer is either
data with no problems, or problems located inside the file. Example counts stay modest so the suite stays fast;
under CI (CI=true) the examples are derandomized so a run is reproducible."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from belarus_releases.check.dataset import check_dataset
from belarus_releases.check.schema import schema_validator, validate_loaded
from belarus_releases.check.yaml_reader import Loaded, load_bytes
from belarus_releases.layout import Layout
from belarus_releases.problems import TYPES, Problem
from corpus import BASE_RECORD, BASE_TARGET, MINI, SOURCE
from test_yaml_plain import assert_read_alike

ROOT = Path(__file__).resolve().parent.parent
RECORD_SCHEMA = ROOT / "schema" / "record.schema.json"
BASE = BASE_RECORD.read_text(encoding="utf-8")
CI = bool(os.environ.get("CI"))


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, derandomize=CI, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


def _lines(raw: bytes) -> list[str]:
    """The file's lines as a person counts them (LF ends a line), for checking that positions fall inside it."""
    return raw.decode("utf-8", "replace").split("\n")


def _assert_located(problems: list[Problem], raw: bytes, name: str) -> None:
    lines = _lines(raw)
    for problem in problems:
        assert problem.file == name
        assert problem.type in TYPES
        assert problem.message and "Traceback" not in problem.message
        if problem.line == 0:
            assert problem.col == 0
            continue
        assert 1 <= problem.line <= len(lines), problem
        assert 1 <= problem.col <= len(lines[problem.line - 1]) + 1, problem


def _check(raw: bytes) -> tuple[Loaded, list[Problem]]:
    assert_read_alike(raw, BASE_TARGET)  # the fast reader too, on every example
    loaded = load_bytes(raw, BASE_TARGET)
    problems = [*loaded.problems, *validate_loaded(loaded, schema_validator(RECORD_SCHEMA), is_record=True).problems]
    _assert_located(problems, raw, BASE_TARGET)
    if not loaded.problems:
        assert isinstance(loaded.data, dict)
    else:
        assert loaded.data is None or isinstance(loaded.data, dict)
    return loaded, problems


@_settings(300)
@given(st.binary(max_size=400))
def test_random_bytes_never_crash(raw: bytes) -> None:
    _check(raw)


@_settings(300)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=300))
def test_random_text_never_crashes(text: str) -> None:
    _check(text.encode())


YAML_PIECES = st.sampled_from([
    ": ", "- ", "\n", "  ", "\t", "&a ", "*a", "<<: ", "!!str ", "!x ", "? ", "[", "]", "{", "}", ",", "'", '"', "#",
    "|", ">-", "---\n", "...\n", "%YAML 1.1\n", "NO", "01234", "1:20", "1.10", "2025-02-30", "=1+1", "-1", "@x",
    "Кoул", "Коул", "\u202e", "\u200b", "\\u202e", "й", "и\u0306", "\r\n", "\r", "id", "count", "sources", "title",
])


@_settings(300)
@given(st.lists(YAML_PIECES, max_size=40).map("".join))
def test_random_yaml_never_crashes(text: str) -> None:
    _check(text.encode())


@st.composite
def base_with_an_edit(draw: st.DrawFn) -> bytes:
    """The base record with a random piece of YAML, text or bytes put in at a random place."""
    raw = BASE.encode()
    at = draw(st.integers(0, len(raw)))
    piece = draw(st.one_of(YAML_PIECES.map(str.encode), st.binary(max_size=8), st.text(max_size=8).map(str.encode)))
    cut = draw(st.integers(0, 8))
    return raw[:at] + piece + raw[at + cut:]


@_settings(400)
@given(base_with_an_edit())
def test_a_record_with_a_random_edit_is_valid_or_located(raw: bytes) -> None:
    _check(raw)


SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6), st.text(max_size=20),
                    st.sampled_from(["NO", "2025-09-11", "01234", "=x", "Кoул"]))
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                       st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                      max_leaves=20)


@_settings(200)
@given(st.dictionaries(st.sampled_from(["id", "date", "title", "summary", "types", "location", "officials", "release",
                                        "sources", "notes", "extra"]), VALUES, max_size=8))
def test_random_structures_dumped_by_another_tool_never_crash(data: dict[str, object]) -> None:
    text = yaml.safe_dump(data, allow_unicode=True)
    _check(text.encode())


@_settings(25)
@given(base_with_an_edit())
def test_the_whole_check_is_valid_or_located(tmp_path_factory: pytest.TempPathFactory, raw: bytes) -> None:
    root = tmp_path_factory.mktemp("prop")
    for part in ("records", "registry"):
        shutil.copytree(MINI / part, root / part)
    shutil.copytree(ROOT / "schema", root / "schema")
    (root / "sources").mkdir()
    shutil.copy(ROOT / "sources" / SOURCE, root / "sources" / SOURCE)
    (root / BASE_TARGET).write_bytes(raw)
    result = check_dataset(Layout(root))
    _assert_located([p for p in result.problems if p.file == BASE_TARGET], raw, BASE_TARGET)
