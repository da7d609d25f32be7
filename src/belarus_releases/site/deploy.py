"""Stage 6, deploy: a self-contained folder from which a container host (Cloud Run, Fly) serves the live release.

    deploy/000007-20251126T170412Z/   a copy of the release build/current names: database, downloads, source texts
    deploy/metadata.yml               as the repository has it (checked as `serve` checks it)
    deploy/dist/belarus_releases-….whl   this package: the plugin, its templates and static files
    deploy/requirements.lock          the runtime part of the lock, with every hash
    deploy/serve.sh                   the serve command (site/deploy_files.py); Dockerfile, .dockerignore, fly.toml, DEPLOY.md

The release keeps its folder name, so the site shows its number and build time as `belarus-releases serve` does.
Nothing is half-written: the folder is made beside the target and renamed into place once complete.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import belarus_releases
from belarus_releases.check.metadata import load_metadata
from belarus_releases.layout import Layout
from belarus_releases.site import deploy_files
from belarus_releases.site.deploy_files import Contents

# The package's own source tree, when it is installed from one (`make install` installs it editable).
PROJECT = Path(belarus_releases.__file__).resolve().parents[2]
_LOCK_ENTRY = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==")
# `    # via datasette`, or one `    #   datasette` line per requirer; `belarus-releases (pyproject.toml)` is not matched.
_LOCK_VIA = re.compile(r"^ +# (?:via |  )([A-Za-z0-9][A-Za-z0-9._-]*)\s*$")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")


class DeployError(Exception):
    """A deployment cannot be prepared."""


class NothingBuilt(DeployError):
    """build/current has no database: there is no release to deploy."""


class TargetNotEmpty(DeployError):
    """The target folder already has something in it; publish never overwrites."""


class ProjectMissing(DeployError):
    """The package's source tree (pyproject.toml, requirements.lock) is not beside the imported package."""


class PackagingFailed(DeployError):
    """pip could not build the package's wheel, or the lock does not cover a dependency."""


@dataclass(frozen=True)
class Deployment:
    """A prepared deployment: its folder, the release it serves, its wheel and the packages its lock installs."""

    folder: Path
    contents: Contents
    packages: tuple[str, ...]


def prepare_deployment(layout: Layout, target: Path, project: Path = PROJECT) -> Deployment:
    """Write a folder that a container host builds and runs to serve the live release, as `serve` does.

    :param layout: the dataset repository; it must have been built.
    :param target: a folder that does not exist yet, or is empty.
    :param project: the package's source tree, with pyproject.toml and requirements.lock.
    :raises DeployError: when nothing is built, the target is not empty, metadata.yml cannot be served, or the
        package cannot be packed; nothing is written then.
    """
    release = _live_release(layout)
    _check_target(target)
    _check_project(project)
    _check_metadata(layout)
    staging = target.parent / f".{target.name}.partial-{os.getpid()}"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        deployment = _write(layout, release, project, staging)
        os.replace(staging, target)  # onto an empty folder too: rename(2) replaces one
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return replace(deployment, folder=target)


def _live_release(layout: Layout) -> Path:
    if not layout.database.is_file():
        raise NothingBuilt(f"{layout.relative(layout.database)} does not exist; run `belarus-releases build` first")
    # Resolved once: a build that switches build/current meanwhile cannot mix two releases into the copy.
    return layout.current.resolve()


def _check_target(target: Path) -> None:
    if target.is_dir() and any(target.iterdir()):
        raise TargetNotEmpty(f"{target} is not empty; give a new folder (publish never overwrites one)")
    if target.exists() and not target.is_dir():
        raise TargetNotEmpty(f"{target} is a file; give a new folder")


def _check_project(project: Path) -> None:
    for name in ("pyproject.toml", deploy_files.LOCK, "src"):
        if not (project / name).exists():
            raise ProjectMissing(f"{project / name} does not exist; publish packs the package from its source tree, "
                                 "so run it from an install made with `make install`")


def _check_metadata(layout: Layout) -> None:
    metadata, problems = load_metadata(layout)
    if metadata is None:
        raise DeployError("\n".join([f"{layout.relative(layout.metadata)} cannot be served:",
                                     *(problem.to_text() for problem in problems)]))


def _write(layout: Layout, release: Path, project: Path, folder: Path) -> Deployment:
    folder.mkdir()
    shutil.copytree(release, folder / release.name)
    shutil.copy2(layout.metadata, folder / deploy_files.METADATA)
    wheel = build_wheel(project, folder / deploy_files.WHEELS)
    lock, packages = runtime_lock((project / deploy_files.LOCK).read_text(encoding="utf-8"),
                                  runtime_dependencies(project / "pyproject.toml"))
    (folder / deploy_files.LOCK).write_text(lock, encoding="utf-8")
    contents = Contents(release.name, layout.database.name, wheel.name)
    _write_texts(folder, contents)
    return Deployment(folder, contents, packages)


def _write_texts(folder: Path, contents: Contents) -> None:
    texts = {
        deploy_files.SERVE_SCRIPT: deploy_files.serve_script(contents),
        "Dockerfile": deploy_files.dockerfile(contents),
        ".dockerignore": deploy_files.dockerignore(contents),
        "fly.toml": deploy_files.fly_toml(),
        "DEPLOY.md": deploy_files.deploy_readme(contents),
    }
    for name, text in texts.items():
        (folder / name).write_text(text, encoding="utf-8")
    (folder / deploy_files.SERVE_SCRIPT).chmod(0o755)


def build_wheel(project: Path, wheels: Path) -> Path:
    """Build the package's wheel into `wheels`, offline, from a copy of its source tree.

    From a copy: setuptools writes build/ and *.egg-info into the tree it builds, and the repository's build/
    holds the releases. With the build tools already installed (--no-build-isolation), nothing is downloaded.
    """
    source = wheels.parent / ".source"
    shutil.copytree(project / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (project / name).is_file():
            shutil.copy2(project / name, source / name)
    command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
               "--disable-pip-version-check", "--quiet", "--wheel-dir", str(wheels), str(source)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    shutil.rmtree(source)
    built = sorted(wheels.glob("*.whl"))
    if done.returncode != 0 or len(built) != 1:
        raise PackagingFailed(f"pip could not build the package's wheel:\n{done.stdout}{done.stderr}".rstrip())
    return built[0]


def canonical(name: str) -> str:
    """A distribution's name as pip compares them (PEP 503): lower case, runs of -_. as one hyphen."""
    return re.sub(r"[-_.]+", "-", name).lower()


def runtime_dependencies(pyproject: Path) -> set[str]:
    """The names pyproject.toml's [project] dependencies require: no extras (test, dev)."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    return {canonical(match.group(1)) for match in map(_NAME.match, project.get("dependencies", [])) if match}


def runtime_lock(lock: str, roots: Iterable[str]) -> tuple[str, tuple[str, ...]]:
    """The entries of a uv lock that `roots` need, followed through each entry's `# via` lines, with their hashes.

    The container needs only what the site runs, not pytest, mypy or Playwright: smaller and quicker to start.
    The lock says who requires each entry (`# via datasette`), so an entry is kept when one of those is kept.
    Markers stay on their entries, so pip still skips what another platform needs.
    :raises PackagingFailed: when the lock has no entry for a root (the lock is older than pyproject.toml).
    """
    entries = _lock_entries(lock)
    kept = {canonical(name) for name in roots}
    missing = sorted(kept - set(entries))
    if missing:
        raise PackagingFailed(f"{deploy_files.LOCK} has no entry for {', '.join(missing)}; run `make lock`")
    while grown := {name for name, (_, via) in entries.items() if name not in kept and via & kept}:
        kept |= grown
    header = (f"# The runtime part of {deploy_files.LOCK}, written by `belarus-releases publish`: what the site needs,\n"
              "# with every hash. Install with `pip install --require-hashes --no-deps -r requirements.lock`.\n")
    names = tuple(name for name in entries if name in kept)
    return header + "".join(entries[name][0] for name in names), names


def _lock_entries(lock: str) -> dict[str, tuple[str, set[str]]]:
    """Each entry of a uv lock by canonical name: its text (requirement, hashes, `# via` lines) and who requires it."""
    entries: dict[str, tuple[str, set[str]]] = {}
    name = None
    for line in lock.splitlines(keepends=True):
        if found := _LOCK_ENTRY.match(line):
            name = canonical(found.group(1))
            entries[name] = ("", set())
        if name is None:
            continue  # the lock's own header
        text, via = entries[name]
        if found := _LOCK_VIA.match(line):
            via.add(canonical(found.group(1)))
        entries[name] = (text + line, via)
    return entries
