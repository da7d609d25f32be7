"""Reporters: text for people, JSON equal to the library's problem dicts, GitHub annotations escaped."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from belarus_releases.check.dataset import CheckResult, check_dataset
from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from belarus_releases.problems import TYPES, Problem
from belarus_releases.report import annotation, as_github, as_json, as_text, render
from corpus import BASE_TARGET, make_mini


@pytest.fixture
def broken(repo: Layout) -> Layout:
    layout = make_mini(repo)
    path = layout.root / BASE_TARGET
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("side: us", "side: usa").replace("count: 52", "count: 53"), encoding="utf-8")
    return layout


def _cli(layout: Layout, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["validate", "--root", str(layout.root), *args])
    return result.exit_code, result.output


def test_text_is_one_line_per_problem_and_a_summary(broken: Layout) -> None:
    code, output = _cli(broken)
    assert code == 1
    assert output == as_text(check_dataset(broken))
    assert output.splitlines()[-1] == "1 problem in 1 of 5 files."
    assert output.splitlines()[0].startswith(f"{BASE_TARGET}:16:11: [schema] officials.0.side (official 1): ")


@pytest.mark.parametrize("flag", [["--json"], ["--format", "json"]])
def test_json_equals_the_library_problem_dicts(broken: Layout, flag: list[str]) -> None:
    code, output = _cli(broken, *flag)
    result = check_dataset(broken)
    assert code == 1
    assert json.loads(output) == {"valid": False, "files_checked": 5, "problems": [p.to_dict() for p in result.problems]}
    assert set(json.loads(output)["problems"][0]) == {"file", "line", "col", "type", "message"}


def test_json_of_a_valid_dataset(repo: Layout) -> None:
    code, output = _cli(make_mini(repo), "--json")
    assert (code, json.loads(output)) == (0, {"valid": True, "files_checked": 5, "problems": []})


def test_json_keeps_non_ascii_text_readable() -> None:
    result = CheckResult(problems=[Problem("records/x.yml", 1, 2, "mixed-script", "'Кoул' is Cyrillic")], files_checked=1)
    assert "'Кoул' is Cyrillic" in as_json(result)


def test_github_annotations_are_escaped() -> None:
    problem = Problem("records/a,b:c%.yml", 3, 4, "quote-not-found", "50% off:\nline two\r, and more")
    assert annotation(problem) == (
        "::error file=records/a%2Cb%3Ac%25.yml,line=3,col=4,title=quote-not-found::50%25 off:%0Aline two%0D, and more")


def test_a_whole_file_annotation_has_no_line() -> None:
    assert annotation(Problem("registry/people.yml", 0, 0, "missing-file", "gone")) == (
        "::error file=registry/people.yml,title=missing-file::gone")


def test_github_format_from_the_cli(broken: Layout) -> None:
    code, output = _cli(broken, "--format", "github")
    assert code == 1
    assert output == as_github(check_dataset(broken))
    assert output.startswith(f"::error file={BASE_TARGET},line=16,col=11,title=schema::officials.0.side (official 1): ")


def test_every_format_renders_every_problem_type() -> None:
    problems = [Problem("records/x.yml", 1, 1, slug, f"message for {slug}") for slug in sorted(TYPES)]
    result = CheckResult(problems=problems, files_checked=1)
    for fmt in ("text", "json", "github"):
        rendered = render(result, fmt)
        assert all(slug in rendered for slug in TYPES), fmt


def test_colours_only_on_a_terminal_and_never_with_no_color(repo: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    record = next(repo.records.glob("*.yml"))
    record.write_text(record.read_text(encoding="utf-8").replace("\ntitle:", "\ntittle:", 1), encoding="utf-8")
    args = ["validate", "--root", str(repo.root)]
    on_terminal = CliRunner().invoke(cli, args, color=True).output
    assert f"\x1b[1m{repo.relative(record)}:" in on_terminal and "\x1b[31m[unknown-field]\x1b[0m" in on_terminal
    piped = CliRunner().invoke(cli, args).output
    assert "\x1b[" not in piped and piped == click.unstyle(on_terminal)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in CliRunner().invoke(cli, args, color=True).output
