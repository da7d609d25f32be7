"""The site as a Datasette plugin and configuration: the entry point, the settings as command-line options, the
workarounds' start-up checks, and metadata that serving would refuse being refused by validate and build first.
"""

from __future__ import annotations

import importlib
import json
import re
from importlib.metadata import entry_points
from pathlib import Path
from types import SimpleNamespace
from typing import Any

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
from belarus_releases.site.settings import SETTINGS, setting_arguments
from belarus_releases.site.workarounds import DatasetteChanged
from served import DATABASE, get

# The entry point


def test_the_plugin_is_registered_once_through_the_datasette_entry_point(ds: Datasette) -> None:
    [entry] = [entry for entry in entry_points(group="datasette") if entry.name == "belarus_releases"]
    assert entry.value == "belarus_releases.site.plugin"
    assert [name for name, registered in pm.list_name_plugin() if registered is plugin] == ["belarus_releases"]
    listed = [{"name": "belarus-releases", "static": True, "templates": False, "version": __version__,
               "hooks": ["asgi_wrapper", "extra_css_urls", "startup"]}]
    assert get(ds, "/-/plugins.json").json() == listed
    result = CliRunner().invoke(datasette_cli, ["plugins"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == listed


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


def _missing(what: str) -> str:
    return re.escape(f"Datasette {datasette_version} has no {what}, which belarus-releases changes")


@pytest.mark.parametrize("remove", [_remove_rich, _remove_execute_fn, _change_execute_fn])
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
    patched = Database.execute_fn
    workarounds.apply()
    assert Database.execute_fn is patched


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
    files = len(list(repo.records.glob("*.yml"))) + 3
    result = CliRunner().invoke(cli, ["validate", "--root", str(repo.root)])
    assert (result.exit_code, result.output) == (1, "\n".join([*expected, f"2 problems in 1 of {files} files.", ""]))
    built = build_dataset(repo)
    assert [problem.to_text() for problem in built.problems] == expected
    assert not repo.build.exists()
