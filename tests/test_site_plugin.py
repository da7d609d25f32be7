"""The site as a Datasette plugin and configuration: the entry point, and metadata that serving would refuse
being refused by validate and build first.
"""

from __future__ import annotations

import json
from importlib.metadata import entry_points

from click.testing import CliRunner
from datasette.app import Datasette
from datasette.cli import cli as datasette_cli
from datasette.plugins import pm

from belarus_releases import __version__
from belarus_releases.cli import cli
from belarus_releases.export.build import build_dataset
from belarus_releases.layout import Layout
from belarus_releases.site import plugin
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

# Metadata that serving would refuse is refused by validate and build first


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
