"""The install: every dependency pinned with hashes in requirements.lock, make installs only from it, and the
weekly workflow tries the newest releases without it."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^ ;\\]+)")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _pins() -> dict[str, list[str]]:
    """Each pinned package with the hashes that follow its pin."""
    pins: dict[str, list[str]] = {}
    current = ""
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        pinned = PIN.match(line)
        if pinned:
            current = _normal(pinned.group(1))
            pins[current] = []
        elif line.strip().startswith("--hash=sha256:") and current:
            pins[current].append(line.strip())
    return pins


def test_every_locked_package_is_pinned_with_hashes() -> None:
    pins = _pins()
    assert len(pins) > 20
    assert [name for name, hashes in pins.items() if not hashes] == []


def test_the_lock_covers_every_declared_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    declared = [*project["dependencies"], *extras["test"], *extras["dev"]]
    names = {_normal(re.split(r"[<>=!~\[; ]", requirement, maxsplit=1)[0]) for requirement in declared}
    assert names - set(_pins()) == set()


def test_make_installs_only_from_the_lock_and_again_when_it_changes() -> None:
    plan = subprocess.run(["make", "-n", "-B", "install"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert len(installs) == 2, plan
    assert "--require-hashes" in installs[0] and "-r requirements.lock" in installs[0]
    assert "--no-deps" in installs[1] and "-e ." in installs[1]  # the project itself, nothing else
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"^\$\(INSTALLED\): \$\(LOCK\) pyproject.toml$", makefile, re.MULTILINE)


def test_the_weekly_workflow_runs_the_suite_against_the_newest_releases() -> None:
    workflow = yaml.safe_load((ROOT / ".github/workflows/newest-dependencies.yml").read_text(encoding="utf-8"))
    assert workflow[True]["schedule"]  # PyYAML reads the key `on` as true (YAML 1.1)
    steps = workflow["jobs"]["test-newest"]["steps"]
    assert steps[-1]["run"] == "make test-newest"
    plan = subprocess.run(["make", "-n", "test-newest"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "requirements.lock" not in plan and "--upgrade -e \".[test]\"" in plan
    assert ".venv-newest/bin/pytest" in plan
