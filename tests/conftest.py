"""Shared fixtures: a throwaway copy of the real dataset repository, so tests can break it freely."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from datasette.app import Datasette
from playwright.sync_api import Browser, sync_playwright

from belarus_releases.check.dataset import check_dataset
from belarus_releases.export.build import build_dataset
from belarus_releases.layout import Layout
from belarus_releases.site.serve import make_datasette
from build_support import copy_repository, use_fixture_dataset
from scheduling import make_scheduler

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(optionalhook=True)  # a hook of pytest-xdist, which may not be loaded
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Tests that share an expensive fixture run on one worker (tests/scheduling.py says which)."""
    return make_scheduler(config, log)


DATASET_PARTS = ("records", "registry", "sources", "schema", "metadata.yml", "assertions.yml", "datapackage.json", "README.md")


def copy_dataset(target: Path) -> Layout:
    """Copy the parts of the repository that the toolkit reads (not build/) into `target`."""
    for part in DATASET_PARTS:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        elif source.is_file():
            shutil.copy2(source, target / part)
    return Layout(target)


@pytest.fixture
def repo(tmp_path: Path) -> Layout:
    """A fresh copy of the real dataset in a temporary folder."""
    return copy_dataset(tmp_path / "repo")


@pytest.fixture
def real() -> Layout:
    """The repository itself, read-only: never write through this."""
    return Layout(ROOT)


@pytest.fixture(scope="session")
def fixture_template(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """The build fixture dataset (tests/build_support.py), checked and built once per worker: tests take copies."""
    layout = use_fixture_dataset(copy_dataset(tmp_path_factory.mktemp("fixture") / "repo"))
    checked = check_dataset(layout)
    assert checked.ok, [p.to_text() for p in checked.problems]
    built = build_dataset(layout)
    assert built.ok, [p.to_text() for p in built.problems]
    return layout


@pytest.fixture
def fixture_dataset(fixture_template: Layout, tmp_path: Path) -> Layout:
    """A fresh copy of the build fixture dataset, never built."""
    return copy_repository(fixture_template, tmp_path / "repo", with_build=False)


@pytest.fixture
def fixture_built(fixture_template: Layout, tmp_path: Path) -> Layout:
    """A fresh copy of the build fixture dataset once built: build/current is its one release."""
    return copy_repository(fixture_template, tmp_path / "repo", with_build=True)


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A built copy of the real dataset (plus a record carrying markup payloads), shared by the serving, browser and
    overview tests: read-only, copy it (build_support.copy_repository) to change anything."""
    from served import built_site

    return built_site(tmp_path_factory)


@pytest.fixture(scope="session")
def ds(site: Layout) -> Datasette:
    """Datasette for `site`, as `belarus-releases serve` makes it."""
    return make_datasette(site)


CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="session")
def live_site(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real `belarus-releases serve` of `site` for every browser test; the browser tests run on one worker
    (tests/scheduling.py), so there is one server."""
    from served import running_server

    if not CHROMIUM.exists():
        if os.environ.get("BELARUS_RELEASES_REQUIRE_BROWSER"):
            pytest.fail(f"{CHROMIUM} is missing and BELARUS_RELEASES_REQUIRE_BROWSER is set; apt-get install chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    site: Layout = request.getfixturevalue("site")  # only once Chromium is known to be there
    with running_server(site, tmp_path_factory.mktemp("live") / "server.log") as base:
        yield base


# Debian's Chromium, driven by Playwright (never `playwright install`): headless, as root in CI, and quiet on a
# machine whose network reaches nothing but this project's server.
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture(scope="module")
def browser(live_site: str) -> Iterator[Browser]:
    """One Chromium for the browser tests of a module. Not for the session: Playwright's synchronous API keeps an
    event loop running while it is open, and later tests in the same worker call asyncio.run."""
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield launched
        launched.close()
