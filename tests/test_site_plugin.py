"""The site as a Datasette plugin and configuration: plain `datasette` run from this environment serves with
the same policy as `belarus-releases serve`; the entry point, the settings as command-line options, the
workarounds' start-up checks, and metadata that serving would refuse being refused by plain datasette, and by
validate and build first.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import re
import time
from importlib.metadata import entry_points
from pathlib import Path
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from click.testing import CliRunner
from datasette import __version__ as datasette_version
from datasette.app import Datasette
from datasette.cli import Setting
from datasette.cli import cli as datasette_cli
from datasette.database import Database
from datasette.plugins import pm

from belarus_releases import __version__
from belarus_releases.cli import cli
from belarus_releases.export.build import build_dataset
from belarus_releases.layout import Layout
from belarus_releases.site import plugin, workarounds
from belarus_releases.site.serve import PluginMissing, make_datasette
from belarus_releases.site.settings import SETTINGS, setting_arguments
from belarus_releases.site.workarounds import DatasetteChanged
from build_support import nothing_built
from served import DATABASE, RUNAWAY, get, running_servers

RUNAWAY_URL = f"/{DATABASE}.json?sql=" + quote(RUNAWAY)
SECURITY_HEADERS = ("content-security-policy", "x-content-type-options", "x-frame-options", "referrer-policy")


# The done-when: plain `datasette build/current/belarus-releases.db -m metadata.yml` gets the same policy


async def _timed(client: httpx.AsyncClient, url: str) -> tuple[int, float, str]:
    started = time.monotonic()
    response = await client.get(url)
    return response.status_code, time.monotonic() - started, response.text


async def _runaways(serve: str, plain: str) -> list[tuple[int, float, str]]:
    """One runaway query on `serve`, two at once on plain datasette, all at the same time."""
    async with httpx.AsyncClient(timeout=30) as client:
        return list(await asyncio.gather(*(_timed(client, base + RUNAWAY_URL) for base in (serve, plain, plain))))


@pytest.mark.server
def test_plain_datasette_sends_the_same_headers_and_enforces_the_same_limits_as_serve(site: Layout, tmp_path: Path) -> None:
    logs = {"serve": tmp_path / "serve.log", "datasette": tmp_path / "datasette.log"}
    with running_servers(site, logs) as bases:
        serve, plain = bases["serve"], bases["datasette"]
        pages = {name: httpx.get(f"{base}/{DATABASE}/events", timeout=30) for name, base in bases.items()}
        too_many = {name: httpx.get(f"{base}/{DATABASE}/events.json?_size=5000", timeout=30) for name, base in bases.items()}
        settings = httpx.get(f"{plain}/-/settings.json", timeout=30).json()
        cut_off, *plain_runaways = asyncio.run(_runaways(serve, plain))
    assert {name: page.status_code for name, page in pages.items()} == {"serve": 200, "datasette": 200}
    sent = {name: {header: page.headers.get(header) for header in SECURITY_HEADERS} for name, page in pages.items()}
    assert None not in sent["serve"].values()
    assert sent["datasette"] == sent["serve"]
    assert {name: response.status_code for name, response in too_many.items()} == {"serve": 400, "datasette": 400}
    # Plain datasette keeps its own 3 SQL threads (fixed when Datasette is made), so it lets one visitor query
    # run at a time where serve, with 4, lets two: stricter, never looser.
    assert {name: settings[name] for name in SETTINGS} == {**SETTINGS, "num_sql_threads": 3}
    assert sorted(status for status, _, _ in plain_runaways) == [400, 429]
    for status, seconds, text in [cut_off, *(r for r in plain_runaways if r[0] == 400)]:
        assert (status, "SQL query took too long" in text) == (400, True), text
        assert seconds < 1.5, f"the runaway query was stopped after {seconds:.2f} s"


# The entry point


def test_the_plugin_is_registered_once_through_the_datasette_entry_point(ds: Datasette) -> None:
    [entry] = [entry for entry in entry_points(group="datasette") if entry.name == "belarus_releases"]
    assert entry.value == "belarus_releases.site.plugin"
    assert [name for name, registered in pm.list_name_plugin() if registered is plugin] == ["belarus_releases"]
    listed = [{"name": "belarus-releases", "static": True, "templates": True, "version": __version__,
               "hooks": ["asgi_wrapper", "extra_css_urls", "extra_template_vars", "handle_exception", "prepare_connection",
                         "prepare_jinja2_environment", "register_facet_classes", "register_routes", "startup"]}]
    assert get(ds, "/-/plugins.json").json() == listed
    result = CliRunner().invoke(datasette_cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == listed


def test_serve_refuses_to_run_when_datasette_did_not_load_the_plugin(site: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pm, "is_registered", lambda registered: registered is not plugin)
    with pytest.raises(PluginMissing, match=re.escape("Datasette did not load the belarus_releases plugin; reinstall")):
        make_datasette(site)


# One place for the settings


def test_setting_arguments_are_datasettes_own_options_for_exactly_the_settings() -> None:
    arguments = setting_arguments()
    assert arguments[:6] == ["--setting", "suggest_facets", "off", "--setting", "sql_time_limit_ms", "1000"]
    options = [arguments[start:start + 3] for start in range(0, len(arguments), 3)]
    assert {option for option, _, _ in options} == {"--setting"}
    assert dict(Setting().convert((name, value), None, None) for _, name, value in options) == SETTINGS


def test_a_datasette_command_line_with_the_arguments_gets_every_setting(site: Layout) -> None:
    command = ["serve", str(site.database), "-m", str(site.metadata), *setting_arguments(), "--get", "/-/settings.json"]
    result = CliRunner().invoke(datasette_cli, command)
    assert result.exit_code == 0, result.output
    applied = json.loads(result.output)
    assert {name: applied[name] for name in SETTINGS} == SETTINGS


# Workarounds check what they change


def _remove_rich(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delattr(importlib.import_module("datasette.handle_exception"), "rich")
    return "module-level `rich` in datasette.handle_exception"


def _remove_execute_fn(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.delattr(Database, "execute_fn")
    return "coroutine datasette.database.Database.execute_fn(self, fn)"


def _change_execute_fn(monkeypatch: pytest.MonkeyPatch) -> str:
    async def execute_fn(self: Any, fn: Any, timeout: float) -> None: ...

    monkeypatch.setattr(Database, "execute_fn", execute_fn)
    return "coroutine datasette.database.Database.execute_fn(self, fn)"


def _replace_csv_module(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(importlib.import_module("datasette.views.base"), "csv", SimpleNamespace(writer=None))
    return "DataView.as_csv writing with the module-level `csv.writer` in datasette.views.base"


def _change_datasette_error(monkeypatch: pytest.MonkeyPatch) -> str:
    class DatasetteError(Exception):
        def __init__(self, message: str, status: int = 400) -> None: ...

    monkeypatch.setattr(importlib.import_module("datasette.views.base"), "DatasetteError", DatasetteError)
    return "datasette.views.base.DatasetteError(message, ..., status=500)"


def _replace_table_plugin_manager(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setattr(importlib.import_module("datasette.views.table"), "pm", SimpleNamespace(hook=None))
    return "display_columns_and_rows calling the module-level `pm.hook.render_cell` in datasette.views.table"


def _missing(what: str) -> str:
    return re.escape(f"Datasette {datasette_version} has no {what}, which belarus-releases changes")


@pytest.mark.parametrize("remove", [_remove_rich, _remove_execute_fn, _change_execute_fn, _replace_csv_module,
                                    _change_datasette_error, _replace_table_plugin_manager])
def test_a_workaround_whose_target_is_gone_fails_loudly(monkeypatch: pytest.MonkeyPatch, remove: Any) -> None:
    what = remove(monkeypatch)
    with pytest.raises(DatasetteChanged, match=_missing(what)):
        workarounds.apply()


def test_plain_datasette_and_serve_refuse_to_start_without_a_workarounds_target(
        site: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    what = _remove_rich(monkeypatch)
    plain = CliRunner().invoke(datasette_cli, ["serve", str(site.database), "--get", "/"])
    assert isinstance(plain.exception, DatasetteChanged) and re.match(_missing(what), str(plain.exception))
    serve = CliRunner().invoke(cli, ["serve", "--root", str(site.root), "--get", "/"])
    assert serve.exit_code == 1 and re.match("Error: " + _missing(what), serve.output), serve.output


def test_workarounds_are_idempotent() -> None:
    workarounds.apply()
    patched, manager = Database.execute_fn, importlib.import_module("datasette.views.table").pm
    workarounds.apply()
    assert Database.execute_fn is patched and importlib.import_module("datasette.views.table").pm is manager


def test_imposing_settings_checks_datasettes_private_settings(ds: Datasette) -> None:
    numbers = {"max_returned_rows": 1000, "sql_time_limit_ms": 1000, "page_size": 100}
    with pytest.raises(DatasetteChanged, match=_missing("Datasette._settings dict")):
        workarounds.impose_settings(SimpleNamespace(**numbers), SETTINGS)
    with pytest.raises(DatasetteChanged, match=_missing("setting 'no_such_setting' in Datasette._settings")):
        workarounds.impose_settings(ds, {"no_such_setting": 1})


# Metadata that serving would refuse is refused by plain datasette, and by validate and build first


def test_plain_datasette_refuses_to_start_with_html_or_script_links_in_its_metadata(site: Layout, tmp_path: Path) -> None:
    unsafe = tmp_path / "unsafe.yml"
    unsafe.write_text("title: x\ndescription_html: <b>x</b>\nlicense_url: javascript:alert(1)\n", encoding="utf-8")
    result = CliRunner().invoke(datasette_cli, ["serve", str(site.database), "-m", str(unsafe), "--get", "/"])
    assert isinstance(result.exception, plugin.UnsafeMetadata)
    assert str(result.exception).splitlines() == [
        "the metadata cannot be served safely (`belarus-releases validate` locates each entry in metadata.yml):",
        "description_html: Datasette shows *_html values as raw HTML; write plain text under 'description' instead",
        "license_url: a link must start with https:// or http://",
    ]


def test_html_and_script_links_in_metadata_are_refused_by_validate_and_build(repo: Layout) -> None:
    text = repo.metadata.read_text(encoding="utf-8")
    for old, new in [("\nlicense_url: https://", "\nlicense_url: javascript:alert(1)//"),
                     ("\n    description: >-\n      Events,", "\n    description_html: >-\n      Events,")]:
        assert old in text
        text = text.replace(old, new, 1)
    repo.metadata.write_text(text, encoding="utf-8")
    link, html = (text[:text.index(key)].count("\n") + 2 for key in ("\nlicense_url:", "\n    description_html:"))
    expected = [
        f"metadata.yml:{link}:14: [metadata-invalid] license_url: a link must start with https:// or http://",
        f"metadata.yml:{html}:5: [metadata-invalid] databases.{DATABASE}.description_html: Datasette shows *_html "
        "values as raw HTML; write plain text under 'description' instead",
    ]
    files = len(list(repo.records.glob("*.yml"))) + 4  # the registries, metadata.yml, assertions.yml
    result = CliRunner().invoke(cli, ["validate", "--root", str(repo.root)])
    assert (result.exit_code, result.output) == (1, "\n".join([*expected, f"2 problems in 1 of {files} files.", ""]))
    built = build_dataset(repo)
    assert [problem.to_text() for problem in built.problems] == expected
    assert nothing_built(repo)  # validate keeps its cache; nothing else
