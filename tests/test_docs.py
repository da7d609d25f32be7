"""The documentation keeps up with the code: every command has help and is in the README; every problem type is explained."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
import yaml
from click.testing import CliRunner

from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from belarus_releases.problems import TYPES

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
CONTRIBUTING = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
COMMANDS = sorted(cli.commands.values(), key=lambda command: command.name or "")


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_every_command_has_help_with_an_example(command: click.Command) -> None:
    assert command.help, f"{command.name} has no help"
    assert "Example:" in command.help, f"{command.name}'s help has no Example: block"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda command: command.name)
def test_every_command_is_in_the_readme(command: click.Command) -> None:
    assert f"belarus-releases {command.name}" in README


def test_readme_first_screen_has_the_two_setup_commands() -> None:
    first_screen = "\n".join(README.splitlines()[:40])
    assert "make serve" in first_screen
    assert "make test" in first_screen
    assert "records/*.yml → check (" in first_screen and ") → export (" in first_screen and ") → site (" in first_screen


@pytest.mark.parametrize("slug", sorted(TYPES))
def test_every_problem_type_is_explained_for_contributors(slug: str) -> None:
    assert re.search(rf"^\| `{re.escape(slug)}` \| {re.escape(TYPES[slug])} \|$", CONTRIBUTING, re.MULTILINE), (
        f"CONTRIBUTING.md's table of problem types lacks the row for {slug}: | `{slug}` | {TYPES[slug]} |"
    )


def test_citation_names_the_dataset_version_from_metadata() -> None:
    citation = (ROOT / "CITATION.cff").read_text(encoding="utf-8")
    version = yaml.safe_load((ROOT / "metadata.yml").read_text(encoding="utf-8"))["version"]
    assert f"\nversion: {version}\n" in citation


def test_readme_validate_session_is_what_validate_prints(repo: Layout) -> None:
    """The README's first-screen session, replayed: the same four mistakes give exactly the output shown."""
    path = repo.records / "2025-06-21-kellogg-visits-minsk-14-released.yml"
    text = path.read_text(encoding="utf-8")
    for old, new in [("  value: '2025-06-21'", "  value: 2025-06-21"), ("\nsummary:", "\nsumary:"),
                     ("  count: 14", "  count: 15"), ("блогер Сергей Тихановский", "блогер Сергей Тихоновский")]:
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    shown = README.split("$ belarus-releases validate\n", 1)[1].split("```", 1)[0]
    result = CliRunner().invoke(cli, ["validate", "--root", str(repo.root)])
    assert result.exit_code == 1
    assert result.output == shown
