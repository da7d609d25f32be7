"""Hostile and broken input: every case in tests/fixtures/invalid/ is refused with its exact located lines,
exit code 1 and no traceback, through the library and the CLI, and a broken record changes nothing built."""

from __future__ import annotations

import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from belarus_releases.check import yaml_reader
from belarus_releases.check.dataset import check_dataset
from belarus_releases.check.yaml_reader import MAX_BYTES
from belarus_releases.cli import cli
from belarus_releases.export.build import build_dataset
from belarus_releases.layout import Layout
from conftest import copy_dataset
from corpus import (
    BASE_RECORD,
    BASE_TARGET,
    DATASETS,
    SOURCE,
    Case,
    expected_type,
    invalid_cases,
    lines_for,
    make_mini,
    place,
    prepare,
    tree_bytes,
)

CASES = invalid_cases()


@pytest.fixture(params=DATASETS)
def dataset(request: pytest.FixtureRequest, repo: Layout) -> Layout:
    return prepare(repo, request.param)


@pytest.fixture
def mini(repo: Layout) -> Layout:
    return prepare(repo, "mini")


def _validate(layout: Layout) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", "--root", str(layout.root)])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_the_corpus_has_one_defect_per_case() -> None:
    assert len(CASES) >= 70
    for case in CASES:
        own = case.own_lines
        assert own, f"{case.name}: the expected lines say nothing about {case.target}"
        assert len({expected_type(line) for line in own}) == 1, f"{case.name}: more than one kind of problem"


def test_the_base_dataset_is_valid(dataset: Layout) -> None:
    code, output = _validate(dataset)
    assert (code, output.endswith(" files checked, no problems.\n")) == (0, True), output


# Each case's exact lines, through the CLI (which renders what the library returns) in the mini dataset.
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_cli_exits_1_with_the_expected_lines_and_no_traceback(mini: Layout, case: Case) -> None:
    place(mini, case)
    code, output = _validate(mini)
    assert code == 1
    assert "Traceback" not in output
    assert output.splitlines()[:-1] == list(case.expected)


# In the real dataset too, where the other records, people and sources could change what a case reports: the cases
# whose problems depend on more than the file itself.
ACROSS_FILES = {"duplicate-id", "unknown-person", "unknown-source", "unknown-event", "quote-not-found", "bad-support",
                "fact-unsupported", "count-not-in-quote", "figure-not-quoted", "official-not-named", "id-mismatch",
                "unused-entry", "exact-not-earned", "date-not-earliest", "date-mismatch"}
IN_CONTEXT = [case for case in CASES if {expected_type(line) for line in case.expected} & ACROSS_FILES]


@pytest.mark.parametrize("case", IN_CONTEXT, ids=lambda case: case.name)
def test_the_library_reports_the_same_lines_in_the_real_dataset(repo: Layout, case: Case) -> None:
    real = prepare(repo, "real")
    place(real, case)
    result = check_dataset(real)
    assert [p.to_text() for p in result.problems if p.file == case.target] == list(case.own_lines)


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_libyaml_and_the_pure_python_parser_read_every_case_alike(case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    # libyaml's limits and wording change between releases (0.2.6 stops at 1,000 nesting levels); the pure-Python
    # parser has none of them. Reading is the only stage a parser takes part in, so a file read alike (data,
    # positions, problems) is checked alike by every later stage.
    with_libyaml = yaml_reader.load_bytes(case.raw, case.target)
    monkeypatch.setattr(yaml_reader, "Loader", yaml.SafeLoader)
    with_python = yaml_reader.load_bytes(case.raw, case.target)
    assert replace(with_python, ends={}) == replace(with_libyaml, ends={})
    # Where a scalar's text ends only bounds the search for a mixed-script word in it. libyaml counts a U+FEFF
    # inside a line as no column, so there the ends differ by one; that character is refused on its own anyway.
    if "\ufeff".encode() not in case.raw:
        assert with_python.ends == with_libyaml.ends


PARSER_CASES = [case for case in CASES if case.name.startswith(("yaml-", "too-deep", "tag-", "multiple", "complex"))]


@pytest.mark.parametrize("case", PARSER_CASES, ids=lambda case: case.name)
def test_both_parsers_give_the_same_problems_end_to_end(mini: Layout, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    place(mini, case)
    with_libyaml = check_dataset(mini).problems
    monkeypatch.setattr(yaml_reader, "Loader", yaml.SafeLoader)
    assert check_dataset(mini).problems == with_libyaml


def _is_mini(layout: Layout) -> bool:
    return [p.name for p in layout.sources.iterdir()] == [SOURCE]


# Cases that cannot be committed as plain files


def _one_line(layout: Layout, file: str) -> str:
    code, output = _validate(layout)
    assert code == 1 and "Traceback" not in output
    lines = lines_for(output, file)
    assert len(lines) == 1, output
    return lines[0]


def test_a_20_mb_record_is_refused_before_it_is_read(dataset: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    path = dataset.root / BASE_TARGET
    with path.open("ab") as handle:
        handle.truncate(20 * 1024 * 1024)
    read = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("read") if self == path else read(self))
    assert _one_line(dataset, BASE_TARGET) == (
        f"{BASE_TARGET}:1:1: [file-too-large] the file is 20,971,520 bytes; the limit is {MAX_BYTES:,} bytes: "
        "split it or shorten the quotes")


def test_a_symlinked_record_is_refused(dataset: Layout) -> None:
    path = dataset.root / BASE_TARGET
    outside = dataset.root.parent / "outside.yml"
    shutil.move(path, outside)
    path.symlink_to(outside)
    assert _one_line(dataset, BASE_TARGET) == (
        f"{BASE_TARGET}:0:0: [unsafe-path] this record is a symbolic link; replace it with the record file itself")


def test_a_symlinked_source_file_is_refused(dataset: Layout) -> None:
    path = dataset.sources / SOURCE
    outside = dataset.root.parent / SOURCE
    shutil.move(path, outside)
    path.symlink_to(outside)
    line = _one_line(dataset, "registry/sources.yml")
    assert line.endswith(f"[unsafe-path] sources/{SOURCE} is a symbolic link; copy the document in instead")


def test_only_a_regular_file_directly_in_sources_is_a_source_document(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.sources.mkdir()
    (layout.sources / "a.txt").write_text("text", encoding="utf-8")
    (layout.sources / "folder").mkdir()
    (layout.sources / "link.txt").symlink_to(layout.sources / "a.txt")
    (tmp_path / "outside.txt").write_text("text", encoding="utf-8")
    assert layout.source_file("a.txt") == layout.sources / "a.txt"
    assert layout.source_status("a.txt") == os.lstat(layout.sources / "a.txt")
    for name in ("folder", "link.txt", "missing.txt", "../outside.txt", "folder/../a.txt", ".a.txt", "a\0.txt"):
        assert layout.source_status(name) is None and layout.source_file(name) is None, name


def test_an_absolute_path_to_a_real_file_is_refused(dataset: Layout) -> None:
    path = dataset.root / BASE_TARGET
    absolute = str((dataset.sources / SOURCE).resolve())
    path.write_text(path.read_text(encoding="utf-8").replace(f"file: {SOURCE}", f"file: {absolute}"), encoding="utf-8")
    assert _one_line(dataset, BASE_TARGET).startswith(f"{BASE_TARGET}:24:11: [unsafe-path] sources.0.file (source 1): \"/")


# A broken record changes nothing that was built

@pytest.fixture(scope="module")
def built_mini(tmp_path_factory: pytest.TempPathFactory) -> tuple[Layout, dict[str, bytes]]:
    """The mini dataset, built once for every case below, with the bytes of what the build published."""
    layout = make_mini(copy_dataset(tmp_path_factory.mktemp("built") / "repo"))
    assert build_dataset(layout).ok
    return layout, tree_bytes(layout.build, layout.datapackage)


# One case from each stage that can refuse a record: reading bytes, YAML, characters, schema, record rules, the rules
# across files, provenance. Every refusal takes the same path out of the build (no check passes, nothing is staged).
BUILD_CASES = [case for case in CASES if case.name in {
    "not-utf8-cp1251", "alias-bomb", "too-deep-5000-brackets", "control-character-nul", "bidi-right-to-left-override",
    "wrong-type-count-quoted", "count-range", "unknown-person", "duplicate-id", "quote-not-found", "formula-equals"}]


@pytest.mark.parametrize("case", BUILD_CASES, ids=lambda case: case.name)
def test_a_broken_record_leaves_the_built_outputs_byte_identical(built_mini: tuple[Layout, dict[str, bytes]],
                                                                 case: Case) -> None:
    layout, before = built_mini
    assert before
    path = place(layout, case)
    try:
        assert not build_dataset(layout).ok
        assert tree_bytes(layout.build, layout.datapackage) == before
    finally:  # put the valid base record back for the next case
        path.unlink(missing_ok=True)
        shutil.copy(BASE_RECORD, layout.root / BASE_TARGET)
