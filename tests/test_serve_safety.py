"""Publishing safely: security headers and CSP, contributor text escaped, metadata without HTML, SQL that
writes refused, runaway queries stopped without stalling the site. In process, against the real build.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
import yaml
from datasette.app import Datasette

from belarus_releases.layout import Layout
from belarus_releases.site.serve import MetadataInvalid, make_datasette
from conftest import copy_dataset
from served import DATABASE, MARKUP, MARKUP_ID, RUNAWAY, escaped, get, metadata

HEADERS = {"x-content-type-options": "nosniff", "x-frame-options": "DENY", "referrer-policy": "no-referrer"}


def csp(response: httpx.Response) -> dict[str, list[str]]:
    policy = response.headers["content-security-policy"]
    return {name: values for name, *values in (part.split() for part in policy.split(";") if part.strip())}


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
    layout.database.parent.mkdir(parents=True)
    layout.database.write_bytes(site.database.read_bytes())
    data = metadata(layout)
    data["databases"][DATABASE]["tables"]["events"]["description_html"] = "<script>alert(1)</script>"
    data["source_url"] = "javascript:alert(1)"
    layout.metadata.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(MetadataInvalid) as refused:
        make_datasette(layout)
    # Where each line points is tested on validate's output (test_site_plugin.py); safe_dump moves things here.
    assert re.sub(r"metadata.yml:\d+:\d+:", "metadata.yml:L:C:", str(refused.value)).splitlines() == [
        "metadata.yml cannot be served:",
        f"metadata.yml:L:C: [metadata-invalid] databases.{DATABASE}.tables.events.description_html: "
        "Datasette shows *_html values as raw HTML; write plain text under 'description' instead",
        "metadata.yml:L:C: [metadata-invalid] source_url: a link must start with https:// or http://",
    ]


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


async def _runaway_and_row(ds: Datasette, before: str | None = None) -> tuple[httpx.Response, httpx.Response, bool]:
    """Start a runaway query, then fetch a row page; whether the row came back while the runaway still ran."""
    # One client made up front: ds.client makes a new httpx client (with a TLS context) for every request.
    transport = httpx.ASGITransport(app=ds.app())
    async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=30) as client:
        if before is not None:
            assert (await client.get(f"/{DATABASE}.json?sql=" + quote(before))).status_code == 400
        runaway = asyncio.create_task(client.get(f"/{DATABASE}.json?sql=" + quote(RUNAWAY)))
        await asyncio.sleep(0.05)  # let the runaway query start first
        gc.collect()  # frees whatever the failed query left behind, now, while the runaway runs
        row = await client.get(f"/{DATABASE}/events/{MARKUP_ID}.json")
        still_running = not runaway.done()
        return await runaway, row, still_running


def test_runaway_query_is_cut_off_while_the_row_page_answers(ds: Datasette) -> None:
    runaway, row, answered_meanwhile = asyncio.run(_runaway_and_row(ds))
    assert runaway.status_code == 400
    assert "SQL query took too long" in runaway.json()["error"]
    assert row.status_code == 200
    assert answered_meanwhile, "the row page should answer while the runaway query is still running"


@pytest.mark.parametrize("failing", ["select json('not json')", "with x as (select 1) delete from events"])
def test_a_failed_query_does_not_freeze_the_site_during_a_runaway(site: Layout, failing: str) -> None:
    # A fresh instance has one SQL thread, so the failed query and the runaway share a connection.
    runaway, row, answered_meanwhile = asyncio.run(_runaway_and_row(make_datasette(site), before=failing))
    assert (runaway.status_code, row.status_code) == (400, 200)
    assert answered_meanwhile, "freeing the failed query's cursor waited for the runaway query"


def test_visitor_sql_beyond_half_the_threads_is_turned_away(ds: Datasette) -> None:
    async def three() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=ds.app())
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost", timeout=30) as client:
            return list(await asyncio.gather(*(client.get(f"/{DATABASE}.json?sql=" + quote(RUNAWAY)) for _ in range(3))))

    responses = asyncio.run(three())
    assert sorted(response.status_code for response in responses) == [400, 400, 429]
    [refused] = [response for response in responses if response.status_code == 429]
    assert refused.headers["retry-after"] == "1"
    assert refused.headers["x-frame-options"] == "DENY"


def test_client_errors_print_no_traceback(ds: Datasette, capfd: pytest.CaptureFixture[str]) -> None:
    get(ds, "/no-such-page")
    get(ds, f"/{DATABASE}.json?sql=" + quote("update events set title = 'x'"))
    get(ds, f"/{DATABASE}/events?_through=garbage")  # the visitor's mistakes site/parameters.py words
    get(ds, f"/{DATABASE}/events.csv?_timelimit=-1")
    out, err = capfd.readouterr()
    assert "Traceback" not in out + err
