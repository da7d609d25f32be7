"""`belarus-releases publish`: the folder a container host builds, checked file by file, then served here by the
very command its Dockerfile runs, with the package installed from its wheel, and compared with `serve`."""

from __future__ import annotations

import json
import os
import re
import shlex
import sys
import tomllib
import zipfile
from importlib.metadata import requires
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from datasette.app import Datasette
from packaging.requirements import Requirement

from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from belarus_releases.site import deploy
from belarus_releases.site.deploy import PackagingFailed, ProjectMissing, canonical, prepare_deployment, runtime_lock
from belarus_releases.site.settings import SETTINGS, setting_arguments
from served import DATABASE, free_port, get, running_command

DEPLOYMENT_FILES = {".dockerignore", "DEPLOY.md", "Dockerfile", "dist", "fly.toml", "metadata.yml", "requirements.lock",
                    "serve.sh"}
HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


@pytest.fixture(scope="module")
def published(site: Layout, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("publish") / "deploy"
    result = CliRunner().invoke(cli, ["publish", str(target), "--root", str(site.root)])
    assert result.exit_code == 0, result.output
    release = site.current.resolve().name
    assert result.output.startswith(f"Wrote {target}/ to serve release {release} (")
    assert "gcloud run deploy belarus-releases --source ." in result.output and "fly deploy" in result.output
    return target


def _files(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file()}


def test_publish_copies_the_live_release_and_metadata_byte_for_byte(site: Layout, published: Path) -> None:
    release = site.current.resolve()
    assert {path.name for path in published.iterdir()} == DEPLOYMENT_FILES | {release.name}
    copied = _files(published / release.name)
    assert copied == _files(release)
    assert copied[site.database.name] == site.database.read_bytes()
    assert (published / "metadata.yml").read_bytes() == site.metadata.read_bytes()


def test_the_dockerfile_installs_locked_hashes_and_runs_serve_sh_as_a_plain_user(site: Layout, published: Path) -> None:
    dockerfile = (published / "Dockerfile").read_text(encoding="utf-8")
    [wheel] = (published / "dist").iterdir()
    assert "\nFROM python:3.11-slim\n" in dockerfile
    assert "\nRUN pip install --require-hashes --no-deps -r requirements.lock\n" in dockerfile
    assert f"\nRUN pip install --no-deps --no-index dist/{wheel.name}\n" in dockerfile
    assert "\nUSER datasette\nEXPOSE $PORT\n" in dockerfile
    assert dockerfile.endswith('\nCMD ["/bin/sh", "serve.sh"]\n')
    assert (published / ".dockerignore").read_text(encoding="utf-8").splitlines() == [
        "*", "!requirements.lock", f"!dist/{wheel.name}", "!metadata.yml", "!serve.sh", f"!{site.current.resolve().name}"]
    fly = tomllib.loads((published / "fly.toml").read_text(encoding="utf-8"))
    assert fly["http_service"]["internal_port"] == int(fly["env"]["PORT"]) == 8080
    assert fly["http_service"]["auto_start_machines"] is True


def test_serve_sh_runs_datasette_on_the_immutable_database_with_every_setting(site: Layout, published: Path) -> None:
    lines = (published / "serve.sh").read_text(encoding="utf-8").splitlines()
    [command] = [line for line in lines if line.startswith("exec ")]
    database = f"{site.current.resolve().name}/{site.database.name}"
    assert shlex.split(command.rstrip(" \\")) == ["exec", "datasette", "serve", "-i", database, "-m", "metadata.yml"]
    settings = [word for line in lines if line.lstrip().startswith("--setting") for word in shlex.split(line.rstrip(" \\"))]
    assert settings == setting_arguments()


def test_the_wheel_carries_the_plugin_its_templates_and_static_files(published: Path) -> None:
    [wheel] = (published / "dist").iterdir()
    plugin = Path(deploy.__file__).parent / "plugin"
    shipped = {path.relative_to(plugin).as_posix() for path in plugin.rglob("*") if path.suffix in {".html", ".css"}}
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        [entry_points] = [name for name in names if name.endswith(".dist-info/entry_points.txt")]
        assert "[datasette]\nbelarus_releases = belarus_releases.site.plugin\n" in archive.read(entry_points).decode()
    assert shipped and {f"belarus_releases/site/plugin/{name}" for name in shipped} <= names


def test_the_lock_keeps_exactly_what_the_site_needs_with_every_hash(published: Path) -> None:
    lock = (published / "requirements.lock").read_text(encoding="utf-8")
    full = (deploy.PROJECT / "requirements.lock").read_text(encoding="utf-8")
    blocks = re.split(r"\n(?=[a-z0-9])", lock.split("\n", 2)[2].rstrip("\n"))
    assert all(block in full and "--hash=sha256:" in block for block in blocks)
    entries = [Requirement(block.split(" \\\n", 1)[0]) for block in blocks]  # `name==version ; marker`
    kept = {canonical(entry.name) for entry in entries}
    assert {"datasette", "pyyaml", "pyarrow", "uvicorn"} <= kept
    assert not {"pytest", "playwright", "mypy", "ruff", "uv", "hypothesis"} & kept
    # Closed: whatever a kept package installed here requires (no extras) is kept too.
    for entry in entries:
        if entry.marker is None or entry.marker.evaluate():
            needs = {canonical(need.name) for need in map(Requirement, requires(entry.name) or [])
                     if need.marker is None or need.marker.evaluate({"extra": ""})}
            assert needs <= kept, f"{entry.name} needs {sorted(needs - kept)}"


@pytest.mark.server
def test_the_deployments_own_command_serves_what_serve_serves(published: Path, ds: Datasette, tmp_path: Path) -> None:
    # The package as the container installs it: from the wheel (pure Python, so unpacking it is installing it),
    # ahead of this environment's editable install on the path.
    [wheel] = (published / "dist").iterdir()
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(tmp_path / "wheel")
    command = json.loads((published / "Dockerfile").read_text(encoding="utf-8").rsplit("\nCMD ", 1)[1])
    port = free_port()
    env = {**os.environ, "PORT": str(port), "LISTEN_HOST": "127.0.0.1", "PYTHONPATH": str(tmp_path / "wheel"),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    with running_command(command, published, tmp_path / "deployed.log", port, env) as base:
        home = httpx.get(f"{base}/", timeout=30)
        events = httpx.get(f"{base}/{DATABASE}/events.json?_shape=array&_size=max", timeout=30)
        settings = httpx.get(f"{base}/-/settings.json", timeout=30).json()
        plugins = httpx.get(f"{base}/-/plugins.json", timeout=30).json()
    served = get(ds, "/")
    assert (home.status_code, events.status_code) == (200, 200)
    assert {name: home.headers.get(name) for name in HEADERS} == {name: served.headers.get(name) for name in HEADERS}
    assert home.headers["content-security-policy"].startswith("default-src 'none'; script-src 'self' 'sha256-")
    assert events.json() == get(ds, f"/{DATABASE}/events.json?_shape=array&_size=max").json()
    assert {name: settings[name] for name in SETTINGS} == SETTINGS
    assert [(plugin["name"], plugin["templates"], plugin["static"]) for plugin in plugins] == [("belarus-releases", True, True)]


# Refusals: a clear error, and nothing written


def test_publish_refuses_when_nothing_is_built(repo: Layout, tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["publish", str(tmp_path / "deploy"), "--root", str(repo.root)])
    assert (result.exit_code, result.output) == (
        1, "Error: build/current/belarus-releases.db does not exist; run `belarus-releases build` first\n")
    assert not (tmp_path / "deploy").exists()


def test_publish_refuses_a_target_that_is_not_empty(site: Layout, tmp_path: Path) -> None:
    (tmp_path / "deploy").mkdir()
    (tmp_path / "deploy" / "notes.txt").write_text("mine", encoding="utf-8")
    result = CliRunner().invoke(cli, ["publish", str(tmp_path / "deploy"), "--root", str(site.root)])
    assert (result.exit_code, result.output) == (
        1, f"Error: {tmp_path / 'deploy'} is not empty; give a new folder (publish never overwrites one)\n")
    assert [path.name for path in (tmp_path / "deploy").iterdir()] == ["notes.txt"]


def test_publish_refuses_without_the_packages_source_tree(site: Layout, tmp_path: Path) -> None:
    with pytest.raises(ProjectMissing, match=re.escape(f"{tmp_path / 'pyproject.toml'} does not exist; publish packs")):
        prepare_deployment(site, tmp_path / "deploy", project=tmp_path)


def test_a_failure_while_writing_leaves_nothing(site: Layout, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(project: Path, wheels: Path) -> Path:
        raise PackagingFailed("pip could not build the package's wheel:\nboom")

    monkeypatch.setattr(deploy, "build_wheel", fail)
    with pytest.raises(PackagingFailed, match="boom"):
        prepare_deployment(site, tmp_path / "deploy")
    assert list(tmp_path.iterdir()) == []


def test_a_lock_without_a_dependency_is_refused() -> None:
    lock = "pyyaml==6.0.4 \\\n    --hash=sha256:00\n    # via belarus-releases (pyproject.toml)\n"
    assert runtime_lock(lock, {"PyYAML"})[1] == ("pyyaml",)
    with pytest.raises(PackagingFailed, match=re.escape("requirements.lock has no entry for datasette; run `make lock`")):
        runtime_lock(lock, {"datasette", "pyyaml"})
