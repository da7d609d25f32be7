"""CONTRIBUTING.md's whole run, from a blank file to a pull request, replayed command by command in a fresh clone:
every command prints exactly what the document shows (file counts and commit ids aside, which grow and vary)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from belarus_releases.cli import cli

ROOT = Path(__file__).resolve().parent.parent
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
STEP = re.compile(r"<!-- replay: (?P<what>[^>]*?) -->\n(?:```\w+\n(?P<body>.*?)```\n)?", re.DOTALL)
GIT_ENV = {"GIT_AUTHOR_NAME": "A Contributor", "GIT_AUTHOR_EMAIL": "contributor@example.org",
           "GIT_COMMITTER_NAME": "A Contributor", "GIT_COMMITTER_EMAIL": "contributor@example.org"}


def _comparable(text: str) -> str:
    """Output with what legitimately differs from run to run made neutral: counts of files, commit ids."""
    return re.sub(r"\b(at) [0-9a-f]{10}\b", r"\1 COMMIT", re.sub(r"\b\d+ files\b", "N files", text))


def _console(body: str) -> list[tuple[str, str]]:
    """(command, expected output) for each `$ ` line of a console block."""
    steps: list[tuple[str, str]] = []
    for line in body.splitlines(keepends=True):
        if line.startswith("$ "):
            steps.append((line[2:].strip(), ""))
        else:
            command, output = steps[-1]
            steps[-1] = (command, output + line)
    return steps


def _run(command: str, repo: Path) -> str:
    words = shlex.split(command)
    if words[0] == "belarus-releases":
        result = CliRunner().invoke(cli, words[1:])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        return result.output
    assert words[0] == "git", f"the replay runs belarus-releases and git only, not {command}"
    done = subprocess.run(words, cwd=repo, capture_output=True, text=True, env={**os.environ, **GIT_ENV})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_document_has_a_whole_run_to_replay() -> None:
    kinds = [match["what"].split()[0] for match in STEP.finditer(CONTRIBUTING)]
    assert kinds.count("console") >= 3 and "write" in kinds and "replace" in kinds


def test_the_whole_run_in_contributing_replays_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(repo)], check=True)
    # the session compares with main: a clone made from another branch has it only as origin/main, if at all
    if subprocess.run(["git", "rev-parse", "-q", "--verify", "main"], cwd=repo, capture_output=True).returncode:
        subprocess.run(["git", "branch", "main", "HEAD"], cwd=repo, check=True)
    monkeypatch.chdir(repo)
    for match in STEP.finditer(CONTRIBUTING):
        what, body = match["what"].split(), match["body"] or ""
        if what[0] == "console":
            for command, expected in _console(body):
                assert _comparable(_run(command, repo)) == _comparable(expected), command
        elif what[0] == "write":
            (repo / what[1]).write_text(body, encoding="utf-8")
        elif what[0] == "replace":
            old, new, _, path = shlex.split(match["what"])[1:]
            text = (repo / path).read_text(encoding="utf-8")
            assert old in text
            (repo / path).write_text(text.replace(old, new), encoding="utf-8")
        else:
            pytest.fail(f"unknown replay step: {match['what']}")
