"""Repository conventions for contributors: the workflows, templates, pre-commit hooks and editor settings parse,
name only what exists, and each workflow step that can run here does what it says."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from belarus_releases.cli import cli

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
VENV = ROOT / ".venv"


def _workflow(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / ".github" / "workflows" / name).read_text(encoding="utf-8"))
    return loaded


def _steps(name: str) -> dict[str, dict[str, Any]]:
    (job,) = _workflow(name)["jobs"].values()
    return {step["id"]: step for step in job["steps"] if "id" in step}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_every_workflow_parses_and_pins_its_actions(path: Path) -> None:
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert workflow["name"] and workflow[True]  # PyYAML reads the key `on` as true (YAML 1.1)
    for job in workflow["jobs"].values():
        for step in job["steps"]:
            if "uses" in step:
                assert re.fullmatch(r"[\w.-]+/[\w.-]+@v\d+", step["uses"]), step["uses"]


def _commands_used() -> set[str]:
    runs = [step.get("run", "") for path in WORKFLOWS for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"]
            .values() for step in job["steps"]]
    return {match for run in runs for match in re.findall(r"bin/belarus-releases (\w[\w-]*)", run)}


def test_workflows_call_only_commands_and_make_targets_that_exist() -> None:
    assert _commands_used() <= set(cli.commands), _commands_used() - set(cli.commands)
    runs = "\n".join(step.get("run", "") for path in WORKFLOWS for job in yaml.safe_load(path.read_text(encoding="utf-8"))
                     ["jobs"].values() for step in job["steps"])
    for targets in re.findall(r"(?:^|&&|;)\s*make ([a-z-]+(?: [a-z-]+)*)", runs, re.MULTILINE):
        plan = subprocess.run(["make", "-n", *targets.split()], cwd=ROOT, capture_output=True, text=True)
        assert plan.returncode == 0, plan.stderr


@pytest.fixture(scope="module")
def clone(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh clone of the repository as committed, with the project's environment, as a workflow sees it."""
    target = tmp_path_factory.mktemp("workflow") / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(target)], check=True)
    (target / ".venv").symlink_to(VENV)
    return target


def _run(step: dict[str, Any], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    # The container runs steps with bash; make must not reinstall into the shared environment (INSTALLED=).
    return subprocess.run(["bash", "-e", "-c", step["run"]], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, "MAKEFLAGS": "INSTALLED=", **env}, timeout=120)


def test_the_pull_request_steps_validate_build_and_diff(clone: Path) -> None:
    steps = _steps("pull-request.yml")
    validate = _run(steps["validate"], clone)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert re.fullmatch(r"\d+ files checked, no problems.\n", validate.stdout)
    built = _run(steps["build"], clone)
    assert built.returncode == 0 and (clone / "build" / "current" / "events.csv").is_file(), built.stdout + built.stderr
    diff = _run(steps["diff"], clone, BASE="HEAD")
    assert diff.returncode == 0 and (clone / "diff.md").read_text(encoding="utf-8") == diff.stdout
    assert diff.stdout.startswith("## ")


def test_the_pull_request_validate_step_annotates_problems(clone: Path) -> None:
    record = next((clone / "records").glob("*.yml"))
    text = record.read_text(encoding="utf-8")
    try:
        record.write_text(text.replace("\ntitle:", "\ntittle:", 1), encoding="utf-8")
        validate = _run(_steps("pull-request.yml")["validate"], clone)
    finally:
        record.write_text(text, encoding="utf-8")
    assert validate.returncode == 1
    assert validate.stdout.startswith(f"::error file=records/{record.name},line=")
    assert "title=unknown-field::unknown field 'tittle'" in validate.stdout


def test_the_main_workflow_refreshes_generated_files(clone: Path) -> None:
    steps = _steps("main.yml")
    # Its build step is the pull request's, run in the test above; `make readme` builds again before refreshing.
    assert steps["build"]["run"] == _steps("pull-request.yml")["build"]["run"]
    refreshed = _run(steps["refresh"], clone)
    assert refreshed.returncode == 0, refreshed.stdout + refreshed.stderr
    status = subprocess.run(["git", "status", "--porcelain", "README.md", "datapackage.json"], cwd=clone,
                            capture_output=True, text=True, check=True)
    assert status.stdout == ""  # main as committed is already fresh


def test_pre_commit_runs_the_projects_validation_and_yamllint() -> None:
    config = yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    hooks = {hook["id"]: hook for repo in config["repos"] for hook in repo["hooks"]}
    assert hooks["belarus-releases-validate"]["entry"] == ".venv/bin/belarus-releases validate"
    assert "yamllint" in hooks
    linted = subprocess.run([str(VENV / "bin" / "yamllint"), "-c", ".yamllint", "-f", "parsable", "records", "registry",
                             "metadata.yml", "assertions.yml", ".github", ".pre-commit-config.yaml"],
                            cwd=ROOT, capture_output=True, text=True)
    assert (linted.returncode, linted.stdout) == (0, "")


def test_yamllint_catches_what_contributors_slip_on(tmp_path: Path) -> None:
    path = tmp_path / "x.yml"
    path.write_text("title: a\ntitle: b\nflag: yes\n", encoding="utf-8")
    linted = subprocess.run([str(VENV / "bin" / "yamllint"), "-c", str(ROOT / ".yamllint"), "-f", "parsable", str(path)],
                            capture_output=True, text=True)
    assert "duplication of key \"title\"" in linted.stdout and "truthy value" in linted.stdout


def test_editor_settings_map_every_schema_to_files_that_exist() -> None:
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    for schema, pattern in settings["yaml.schemas"].items():
        assert (ROOT / schema).is_file(), schema
        assert list(ROOT.glob(pattern)), pattern
    assert "redhat.vscode-yaml" in json.loads((ROOT / ".vscode" / "extensions.json").read_text(encoding="utf-8"))[
        "recommendations"]


@pytest.mark.parametrize("name", ["new-event", "correction", "new-source"])
def test_issue_templates_ask_for_what_a_reviewer_needs(name: str) -> None:
    template = yaml.safe_load((ROOT / ".github" / "ISSUE_TEMPLATE" / f"{name}.yml").read_text(encoding="utf-8"))
    assert template["name"] and template["description"]
    assert any(item.get("validations", {}).get("required") for item in template["body"])


def test_the_pull_request_template_has_the_review_checklist() -> None:
    text = (ROOT / ".github" / "pull_request_template.md").read_text(encoding="utf-8")
    assert text.count("- [ ]") >= 5 and "belarus-releases validate" in text


def test_the_cli_commands_the_checklist_names_exist() -> None:
    assert CliRunner().invoke(cli, ["add-source", "--help"]).exit_code == 0
