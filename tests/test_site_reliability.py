"""The public site's reliability classes (README, "The public site"): no redirect leaves the site. In process
against the real build.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import MutableMapping
from contextlib import closing
from typing import Any
from urllib.parse import quote, unquote

import pytest
from datasette.app import Datasette

from belarus_releases.layout import Layout
from belarus_releases.site.redirects import leaves_site, refuse_off_site_redirects
from served import DATABASE

HOST = "site.test"


def sql_url(sql: str, extension: str = ".json") -> str:
    return f"/{DATABASE}{extension}?sql=" + quote(sql)


def tables(layout: Layout) -> list[str]:
    with closing(sqlite3.connect(f"file:{layout.database}?mode=ro", uri=True)) as conn:
        return [name for (name,) in conn.execute("select name from sqlite_master where type in ('table', 'view')")]


# No redirect leaves the site


OFF_SITE = ["//example.com", "/\\example.com", "\\\\example.com", "/\\/example.com", "\\/example.com", "///example.com",
            "/\t/example.com", "/\n/example.com", "\t//example.com", " //example.com", "\x00//example.com",
            "/%5Cexample.com", "/%2F/example.com", "%2F%2Fexample.com", "/%09/example.com",
            "https://example.com/", "HTTP://example.com", "http:\\\\example.com", "http:/\\example.com",
            "https:example.com", f"http://{HOST}@example.com/", f"http://{HOST}.example.com/", "javascript:alert(1)"]
ON_SITE = ["/", f"/{DATABASE}", f"/{DATABASE}/events?_sort_desc=id", "/~5Cexample~2Ecom/", "/%20/example.com",
           "events", "?_sort=id", f"http://{HOST}/{DATABASE}", f"https://{HOST.upper()}/"]


@pytest.mark.parametrize("location", OFF_SITE)
def test_a_location_a_browser_would_follow_elsewhere_leaves_the_site(location: str) -> None:
    assert leaves_site(location, HOST)


@pytest.mark.parametrize("location", ON_SITE)
def test_a_location_on_this_site_does_not(location: str) -> None:
    assert not leaves_site(location, HOST)


async def _call(app: Any, raw_path: bytes, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    """One GET through an ASGI app with the raw path as uvicorn passes it (httpx would normalise it first)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(raw_path.decode("ascii")), "raw_path": raw_path, "root_path": "", "query_string": b"",
             "headers": headers, "server": (HOST, 80), "client": ("127.0.0.1", 50000)}
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    return sent


@pytest.mark.parametrize("location", OFF_SITE + ON_SITE)
def test_the_middleware_turns_every_off_site_redirect_into_a_404(location: str) -> None:
    async def redirect(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 302, "headers": [(b"location", location.encode("latin-1"))]})
        await send({"type": "http.response.body", "body": b"moved"})

    start, body = asyncio.run(_call(refuse_off_site_redirects(redirect), b"/", [(b"host", HOST.encode())]))
    if location in OFF_SITE:
        assert (start["status"], start["headers"], body["body"]) == (404, [(b"content-type", b"text/plain; charset=utf-8")],
                                                                     b"Not found.\n")
    else:
        assert (start["status"], body["body"]) == (302, b"moved")


# What Datasette redirects (a trailing slash, a %-encoded path), written every way that reaches the same host.
REDIRECTING_PATHS = ["/\\example.com/", "//example.com/", "/\\\\/example.com/", "/\\/\\example.com/", "/%5Cexample.com/",
                     "/%5C%5Cexample.com/", "/%2F%2Fexample.com/", "/%09/example.com/", "/\\%09example.com/",
                     "/%5C/example.com/x/", "///example.com/"]


@pytest.fixture(scope="module")
def app(ds: Datasette) -> Any:
    """Datasette's ASGI app, wrapped by the plugin's middleware."""
    return ds.app()


def _get_raw(app: Any, path: str) -> tuple[int, dict[str, str]]:
    [start, *_] = asyncio.run(_call(app, path.encode("ascii"), [(b"host", b"localhost")]))
    return start["status"], {bytes(name).decode().lower(): bytes(value).decode("latin-1") for name, value in start["headers"]}


@pytest.mark.parametrize("path", REDIRECTING_PATHS)
def test_no_path_makes_datasette_redirect_off_site(app: Any, path: str) -> None:
    status, headers = _get_raw(app, path)
    assert not (300 <= status < 400 and leaves_site(headers.get("location", ""), "localhost")), headers
    assert status in (302, 404)
    assert headers["x-frame-options"] == "DENY"  # the security headers wrap the 404 too


def test_the_trailing_slash_redirect_still_works(app: Any) -> None:
    status, headers = _get_raw(app, f"/{DATABASE}/events/")
    assert (status, headers["location"]) == (302, f"/{DATABASE}/events")
