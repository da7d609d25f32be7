"""Serving: the real build through Datasette's in-process client, with the settings and headers we publish with.

One copy of the dataset (plus a record full of markup) is built once for the module with the real build stage.
"""

from __future__ import annotations

import asyncio
import base64
import csv
import hashlib
import io
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import markupsafe
import pytest
import yaml
from click.testing import CliRunner
from datasette.app import DEFAULT_SETTINGS, Datasette

from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from belarus_releases.serve import SETTINGS, DatabaseMissing, UnsafeMetadata, make_datasette
from conftest import copy_dataset
from served import DATABASE, MARKUP, MARKUP_ID, add_markup_record, build

RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    layout = copy_dataset(tmp_path_factory.mktemp("site") / "repo")
    add_markup_record(layout)
    return build(layout)


@pytest.fixture(scope="module")
def ds(site: Layout) -> Datasette:
    return make_datasette(site)


def get(ds: Datasette, path: str) -> httpx.Response:
    response: httpx.Response = asyncio.run(ds.client.get(path))
    return response


def metadata(layout: Layout) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(layout.metadata.read_text(encoding="utf-8"))
    return data


def database_metadata(layout: Layout) -> dict[str, Any]:
    return dict(metadata(layout).get("databases", {}).get(DATABASE, {}))


def record_ids(layout: Layout) -> list[str]:
    return sorted(path.stem for path in layout.records.glob("*.yml"))


def csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


def escaped(text: str) -> str:
    return str(markupsafe.escape(text))


# Pages


def test_home_page_has_the_title_from_metadata(ds: Datasette, site: Layout) -> None:
    response = get(ds, "/")
    assert response.status_code == 200
    assert f"<h1>{escaped(metadata(site)['title'])}</h1>" in response.text


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
    if "releases_over_time" not in database_metadata(site).get("queries", {}):
        pytest.skip("metadata.yml defines no releases_over_time query")
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


# Security headers


HEADER_PATHS = {
    "html": "/",
    "table": f"/{DATABASE}/events",
    "json": f"/{DATABASE}/events.json?_shape=array",
    "csv": f"/{DATABASE}/events.csv",
    "static": "/-/static/app.css",
    "not-found": "/no-such-page",
    "refused-sql": f"/{DATABASE}.json?sql=" + quote("update events set title = 'x'"),
}


@pytest.mark.parametrize("path", HEADER_PATHS.values(), ids=HEADER_PATHS.keys())
def test_every_response_has_the_security_headers(ds: Datasette, path: str) -> None:
    response = get(ds, path)
    policy = csp(response)
    assert {name: response.headers.get(name) for name in HEADERS} == HEADERS
    assert len(response.headers.get_list("referrer-policy")) == 1  # ours replaces Datasette's, not added twice
    assert policy["default-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    assert "'unsafe-inline'" not in policy["script-src"] and "'unsafe-eval'" not in policy["script-src"]


INLINE_SCRIPT = re.compile(r"<script(?P<attributes>[^>]*)>(?P<body>.*?)</script>", re.DOTALL)
HTML_PAGES = {
    "home": "/",
    "database": f"/{DATABASE}",
    "table": f"/{DATABASE}/events",
    "row": f"/{DATABASE}/events/{MARKUP_ID}",
    "query": f"/{DATABASE}?sql=" + quote("select id, title from events"),
}


@pytest.mark.parametrize("path", HTML_PAGES.values(), ids=HTML_PAGES.keys())
def test_every_inline_script_on_datasettes_pages_is_allowed_by_hash(ds: Datasette, path: str) -> None:
    response = get(ds, path)
    allowed = csp(response)["script-src"]
    inline = [m["body"] for m in INLINE_SCRIPT.finditer(response.text) if "src=" not in m["attributes"]]
    assert response.status_code == 200
    for body in inline:
        digest = base64.b64encode(hashlib.sha256(body.encode("utf-8")).digest()).decode("ascii")
        assert f"'sha256-{digest}'" in allowed, f"inline script not covered by the CSP: {body[:80]!r}"


# Contributor text is text


MARKUP_PAGES = {
    "table": f"/{DATABASE}/events?id={MARKUP_ID}",
    "row": f"/{DATABASE}/events/{MARKUP_ID}",
    "query": f"/{DATABASE}?sql=" + quote(f"select title, summary, notes from events where id = '{MARKUP_ID}'"),
}


@pytest.mark.parametrize("path", MARKUP_PAGES.values(), ids=MARKUP_PAGES.keys())
def test_markup_in_records_is_escaped(ds: Datasette, path: str) -> None:
    page = get(ds, path).text
    for field in ("title", "summary"):
        assert MARKUP[field] not in page
        assert escaped(MARKUP[field]) in page


def test_metadata_yml_has_no_html_keys(real: Layout) -> None:
    def keys(value: Any) -> list[str]:
        if isinstance(value, dict):
            return [str(key) for key in value] + [k for item in value.values() for k in keys(item)]
        if isinstance(value, list):
            return [k for item in value for k in keys(item)]
        return []

    assert [key for key in keys(metadata(real)) if key.endswith("_html")] == []


def test_html_in_metadata_is_refused(site: Layout, tmp_path: Path) -> None:
    layout = copy_dataset(tmp_path / "repo")
    layout.build.mkdir()
    layout.database.write_bytes(site.database.read_bytes())
    data = metadata(layout)
    data["databases"][DATABASE]["tables"]["events"]["description_html"] = "<script>alert(1)</script>"
    data["source_url"] = "javascript:alert(1)"
    layout.metadata.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(UnsafeMetadata) as refused:
        make_datasette(layout)
    assert f"databases.{DATABASE}.tables.events.description_html, source_url" in str(refused.value)


# SQL


WRITES = {
    "update": "update events set title = 'x'",
    "insert": "insert into events (id) values ('x')",
    "delete": "delete from events",
    "drop": "drop table events",
    "attach": "attach database ':memory:' as other",
    "pragma": "pragma query_only = 0",
    "with-delete": "with x as (select 1) delete from events",
    "two-statements": "select 1; delete from events",
}


@pytest.mark.parametrize("sql", WRITES.values(), ids=WRITES.keys())
def test_sql_that_writes_is_refused(ds: Datasette, site: Layout, sql: str) -> None:
    before = hashlib.sha256(site.database.read_bytes()).hexdigest()
    response = get(ds, f"/{DATABASE}.json?sql=" + quote(sql))
    assert response.status_code == 400, response.text
    assert response.json()["ok"] is False
    assert hashlib.sha256(site.database.read_bytes()).hexdigest() == before


def test_runaway_query_is_cut_off_while_the_row_page_answers(ds: Datasette) -> None:
    async def both() -> tuple[httpx.Response, httpx.Response, bool]:
        runaway = asyncio.create_task(ds.client.get(f"/{DATABASE}.json?sql=" + quote(RUNAWAY)))
        await asyncio.sleep(0.05)  # let the runaway query start first
        row = await ds.client.get(f"/{DATABASE}/events/{MARKUP_ID}.json")
        still_running = not runaway.done()
        return await runaway, row, still_running

    runaway, row, answered_meanwhile = asyncio.run(both())
    assert runaway.status_code == 400
    assert "SQL query took too long" in runaway.json()["error"]
    assert row.status_code == 200
    assert answered_meanwhile, "the row page should answer while the runaway query is still running"


def test_client_errors_print_no_traceback(ds: Datasette, capfd: pytest.CaptureFixture[str]) -> None:
    get(ds, "/no-such-page")
    get(ds, f"/{DATABASE}.json?sql=" + quote("update events set title = 'x'"))
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err


# The command line


def test_serve_get_prints_one_response(site: Layout) -> None:
    result = CliRunner().invoke(cli, ["serve", "--root", str(site.root), "--get", f"/{DATABASE}/events.json?_shape=array"])
    assert result.exit_code == 0, result.output
    assert MARKUP_ID in result.output


def test_serve_get_exits_1_on_an_http_error(site: Layout) -> None:
    result = CliRunner().invoke(cli, ["serve", "--root", str(site.root), "--get", "/no-such-page"])
    assert result.exit_code == 1


def test_serving_before_building_is_a_clear_error(repo: Layout) -> None:
    message = "build/belarus-releases.db does not exist; run `belarus-releases build` first"
    with pytest.raises(DatabaseMissing, match=re.escape(message)):
        make_datasette(repo)
    result = CliRunner().invoke(cli, ["serve", "--root", str(repo.root), "--get", "/"])
    assert (result.exit_code, result.output) == (1, f"Error: {message}\n")
