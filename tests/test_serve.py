"""Serving: pages, downloads, facets, settings and the command line, against the real build through Datasette's
in-process client, with the settings we publish with. Publishing safely is in test_serve_safety.py.
"""

from __future__ import annotations

import asyncio
import csv
import gc
import io
import re
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from datasette.app import DEFAULT_SETTINGS, Datasette

from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from belarus_releases.site import pages
from belarus_releases.site import serve as serve_module
from belarus_releases.site.serve import DatabaseMissing, make_datasette
from belarus_releases.site.settings import SETTINGS
from served import DATABASE, MARKUP_ID, escaped, get, metadata


def database_metadata(layout: Layout) -> dict[str, Any]:
    return dict(metadata(layout).get("databases", {}).get(DATABASE, {}))


def record_ids(layout: Layout) -> list[str]:
    return sorted(path.stem for path in layout.records.glob("*.yml"))


# Pages


def test_home_page_has_the_title_from_metadata(ds: Datasette, site: Layout) -> None:
    response = get(ds, "/")
    assert response.status_code == 200
    assert f"<h1>{escaped(metadata(site)['title'])}</h1>" in response.text


def test_home_page_lists_the_most_recent_events_and_leads_to_every_one(ds: Datasette, site: Layout,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pages, "HOME_EVENTS", 3)
    count = len(record_ids(site))
    # a cookie keeps the page out of the session's response cache, which holds the home page with every event
    text = asyncio.run(ds.client.get("/", headers={"cookie": "uncached=1"})).text
    events = text.split('<ol class="br-events">')[1].split("</ol>")[0]
    listed = re.findall(rf'<a href="/{DATABASE}/events/([^"]+)">', events)
    rows = get(ds, f"/{DATABASE}/events.json?_shape=array&_sort=sort_date&_size=max").json()
    newest = [row["id"] for row in sorted(rows, key=lambda row: (row["sort_date"], row["id"]))][-3:]
    assert listed == newest and count > 3
    assert f"The 3 most recent of {count:,} events" in text and f", {count:,} events</dd>" in text
    assert f'href="/{DATABASE}/events?_sort=sort_date"' in text


def test_serve_hides_what_exists_before_it_serves_from_the_garbage_collector(site: Layout,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    frozen: list[int] = []
    monkeypatch.setattr(serve_module.uvicorn, "run", lambda app, **options: frozen.append(gc.get_freeze_count()))
    try:
        serve_module.serve(site)
    finally:
        gc.unfreeze()  # this test process goes on making and dropping Datasette instances
    assert frozen and frozen[0] > 10_000


def test_events_table_page_counts_every_record(ds: Datasette, site: Layout) -> None:
    count = len(record_ids(site))
    response = get(ds, f"/{DATABASE}/events")
    assert response.status_code == 200
    assert f"<h3>{count:,} rows" in response.text


def test_row_page_of_an_event_shows_its_title(ds: Datasette, site: Layout) -> None:
    first = sorted(site.records.glob("*.yml"))[0]
    record = yaml.safe_load(first.read_text(encoding="utf-8"))
    response = get(ds, f"/{DATABASE}/events/{record['id']}")
    assert response.status_code == 200
    assert escaped(record["title"]) in response.text


def test_csv_has_a_header_row_and_every_event(ds: Datasette, site: Layout) -> None:
    response = get(ds, f"/{DATABASE}/events.csv?_stream=on")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert response.status_code == 200
    assert rows[0][:1] == ["id"] and "title" in rows[0]
    assert sorted(row[0] for row in rows[1:]) == record_ids(site)


def test_csv_download_is_an_attachment(ds: Datasette) -> None:
    response = get(ds, f"/{DATABASE}/events.csv?_dl=1")
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="events.csv"'


def test_json_array_has_every_event(ds: Datasette, site: Layout) -> None:
    response = get(ds, f"/{DATABASE}/events.json?_shape=array&_size=max")
    assert response.status_code == 200
    assert sorted(row["id"] for row in response.json()) == record_ids(site)


def test_every_canned_query_answers(ds: Datasette, site: Layout) -> None:
    queries = database_metadata(site).get("queries", {})
    for name in queries:
        response = get(ds, f"/{DATABASE}/{name}.json?_shape=array")
        assert response.status_code == 200, (name, response.text)
        assert isinstance(response.json(), list)


def test_releases_over_time_lists_releases(ds: Datasette, site: Layout) -> None:
    assert "releases_over_time" in database_metadata(site).get("queries", {})
    page = get(ds, f"/{DATABASE}/releases_over_time")
    rows = get(ds, f"/{DATABASE}/releases_over_time.json?_shape=array").json()
    assert page.status_code == 200
    assert rows, "the dataset has releases, so the query must return rows"


def _facet_columns(table: dict[str, Any]) -> list[str]:
    """Facet column names as metadata.yml gives them: `column`, or `{array: column}` / `{date: column}`."""
    return [facet if isinstance(facet, str) else next(iter(facet.values())) for facet in table.get("facets", [])]


def test_facets_from_metadata_are_computed(ds: Datasette, site: Layout) -> None:
    tables = {name: _facet_columns(table) for name, table in database_metadata(site).get("tables", {}).items()}
    faceted = {name: columns for name, columns in tables.items() if columns}
    assert "events" in faceted, "metadata.yml should facet the events table"
    for name, columns in faceted.items():
        data = get(ds, f"/{DATABASE}/{name}.json").json()
        assert sorted(data["facet_results"]) == sorted(columns), name
    assert all(get(ds, f"/{DATABASE}/events.json").json()["facet_results"][column]["results"] for column in faceted["events"])


# Settings


def test_settings_are_real_datasette_settings_and_applied(ds: Datasette) -> None:
    assert set(SETTINGS) <= set(DEFAULT_SETTINGS), "a misspelt setting would be silently ignored"
    applied = get(ds, "/-/settings.json").json()
    assert {name: applied[name] for name in SETTINGS} == SETTINGS
    assert applied["suggest_facets"] is False


def test_database_is_immutable(ds: Datasette) -> None:
    [database] = get(ds, "/-/databases.json").json()
    assert (database["name"], database["is_mutable"]) == (DATABASE, False)



# The command line


def test_serve_get_prints_one_response(site: Layout) -> None:
    result = CliRunner().invoke(cli, ["serve", "--root", str(site.root), "--get", f"/{DATABASE}/events.json?_shape=array"])
    assert result.exit_code == 0, result.output
    assert MARKUP_ID in result.output


def test_serve_get_exits_1_on_an_http_error(site: Layout) -> None:
    result = CliRunner().invoke(cli, ["serve", "--root", str(site.root), "--get", "/no-such-page"])
    assert result.exit_code == 1


def test_serving_before_building_is_a_clear_error(repo: Layout) -> None:
    message = "build/current/belarus-releases.db does not exist; run `belarus-releases build` first"
    with pytest.raises(DatabaseMissing, match=re.escape(message)):
        make_datasette(repo)
    result = CliRunner().invoke(cli, ["serve", "--root", str(repo.root), "--get", "/"])
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")


def test_site_stylesheet_is_linked_and_served(ds: Datasette) -> None:
    page = get(ds, f"/{DATABASE}/events")
    stylesheet = get(ds, "/-/static-plugins/belarus-releases/site.css")
    assert '<link rel="stylesheet" href="/-/static-plugins/belarus-releases/site.css">' in page.text
    assert stylesheet.status_code == 200
    assert "dl.column-descriptions" in stylesheet.text
