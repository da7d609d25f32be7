"""Reporters: the same problems as text for people, JSON for programs, or GitHub annotations for pull requests."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from belarus_releases.problems import Problem

if TYPE_CHECKING:  # for annotations only: the CLI imports this module for FORMATS, whatever the command
    from belarus_releases.check.dataset import CheckResult

FORMATS = ("text", "json", "github")


def _summary(result: CheckResult) -> str:
    if result.ok:
        return f"{result.files_checked} files checked, no problems."
    files = len({p.file for p in result.problems})
    noun = "problem" if len(result.problems) == 1 else "problems"
    return f"{len(result.problems)} {noun} in {files} of {result.files_checked} files."


def as_text(result: CheckResult) -> str:
    return "".join(p.to_text() + "\n" for p in result.problems) + _summary(result) + "\n"


def as_coloured_text(result: CheckResult) -> str:
    """The text report with the place in bold, the type in red and the summary in red or green, for a terminal.
    `click.echo` removes the colours again when the output is not a terminal."""
    lines = []
    for problem in result.problems:
        place, rest = problem.to_text().split(f" [{problem.type}] ", 1)
        lines.append(f"{click.style(place, bold=True)} {click.style(f'[{problem.type}]', fg='red')} {rest}\n")
    return "".join(lines) + click.style(_summary(result), fg="green" if result.ok else "red") + "\n"


def as_json(result: CheckResult) -> str:
    body = {"valid": result.ok, "files_checked": result.files_checked,
            "problems": [p.to_dict() for p in result.problems]}
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def _escape(value: str, *, property_: bool = False) -> str:
    # GitHub's workflow-command escaping: %, CR and LF always; ':' and ',' inside properties.
    value = value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return value.replace(":", "%3A").replace(",", "%2C") if property_ else value


def annotation(problem: Problem) -> str:
    props = [f"file={_escape(problem.file, property_=True)}"]
    if problem.line:
        props += [f"line={problem.line}", f"col={problem.col}"]
    props.append(f"title={_escape(problem.type, property_=True)}")
    return f"::error {','.join(props)}::{_escape(problem.message)}"


def as_github(result: CheckResult) -> str:
    return "".join(annotation(p) + "\n" for p in result.problems) + _summary(result) + "\n"


def render(result: CheckResult, fmt: str) -> str:
    return {"text": as_coloured_text, "json": as_json, "github": as_github}[fmt](result)
