"""The response cache (site/cache.py): a cached response is the one the application gave, keyed by everything
it can depend on, and nothing personal, failed, partial or written by the visitor is kept.

The first half drives the middleware with a small ASGI application that counts its calls; the second, the
real site through Datasette's in-process client.
"""

from __future__ import annotations

import asyncio
import gzip
import re
from collections.abc import Iterator, MutableMapping
from types import SimpleNamespace
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from datasette.app import Datasette

from belarus_releases.site import cache
from belarus_releases.site.cache import Entry, ResponseCache, cache_key, cache_responses
from belarus_releases.site.middleware import ASGIApp, Receive, Send
from served import DATABASE, MARKUP_ID, asgi_messages

IMMUTABLE = SimpleNamespace(databases={DATABASE: SimpleNamespace(is_mutable=False),
                                       "_internal": SimpleNamespace(is_mutable=True)})


def scope(path: str, query: bytes = b"", method: str = "GET", headers: list[tuple[bytes, bytes]] | None = None,
          ) -> dict[str, Any]:
    return {"type": "http", "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
            "query_string": query, "headers": headers if headers is not None else [(b"host", b"site")]}


def counting_app(status: int = 200, headers: list[tuple[bytes, bytes]] | None = None, chunks: tuple[bytes, ...] = (b"body",),
                 fail_a_query: bool = False) -> tuple[ASGIApp, list[str]]:
    """An application that answers every request with `chunks` and the number of the call, and lists its calls."""
    calls: list[str] = []

    async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        calls.append(scope["path"])
        await asyncio.sleep(0)  # let concurrent requests overlap
        if fail_a_query:
            cache.query_failed()
        await send({"type": "http.response.start", "status": status, "headers": headers or []})
        for number, chunk in enumerate(chunks):
            await send({"type": "http.response.body", "body": chunk + str(len(calls)).encode(),
                        "more_body": number < len(chunks) - 1})

    return app, calls


async def call(app: ASGIApp, request: dict[str, Any]) -> tuple[int, bytes]:
    sent = await asgi_messages(app, request)
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:])


def twice(app: ASGIApp, request: dict[str, Any], store: ResponseCache) -> tuple[tuple[int, bytes], tuple[int, bytes]]:
    wrapped = cache_responses(app, IMMUTABLE, store)

    async def both() -> tuple[tuple[int, bytes], tuple[int, bytes]]:
        return await call(wrapped, request), await call(wrapped, request)

    return asyncio.run(both())


# The middleware


def test_a_second_request_gets_the_first_response_without_calling_the_app() -> None:
    app, calls = counting_app(chunks=(b"a", b"b"))
    store = ResponseCache()
    first, second = twice(app, scope(f"/{DATABASE}/events"), store)
    assert first == second == (200, b"a1b1")
    assert calls == [f"/{DATABASE}/events"] and len(store.entries) == 1


@pytest.mark.parametrize("app", [
    counting_app(status=404)[0],
    counting_app(status=302, headers=[(b"location", b"/x")])[0],
    counting_app(headers=[(b"set-cookie", b"ds_csrftoken=x")])[0],
    counting_app(headers=[(b"cache-control", b"private, no-store")])[0],
    counting_app(fail_a_query=True)[0],
], ids=["404", "redirect", "set-cookie", "private", "failed-query"])
def test_responses_that_are_not_plain_successes_are_not_kept(app: ASGIApp) -> None:
    store = ResponseCache()
    first, second = twice(app, scope(f"/{DATABASE}/events"), store)
    assert first != second  # computed twice
    assert not store.entries


def test_a_response_over_the_entry_limit_is_passed_on_whole_and_not_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache, "MAX_ENTRY", 10)
    app, _ = counting_app(chunks=(b"x" * 8, b"y" * 8))
    store = ResponseCache()
    first, _ = twice(app, scope(f"/{DATABASE}/events"), store)
    assert first == (200, b"x" * 8 + b"1" + b"y" * 8 + b"1")
    assert not store.entries


@pytest.mark.parametrize("request_scope", [
    scope(f"/{DATABASE}/events", method="POST"),
    scope(f"/{DATABASE}/events", method="HEAD"),
    scope(f"/{DATABASE}/events", headers=[(b"host", b"site"), (b"cookie", b"ds_actor=x")]),
    scope(f"/{DATABASE}/events", headers=[(b"host", b"site"), (b"authorization", b"Bearer x")]),
    scope(f"/{DATABASE}.json", query=b"sql=select+random()"),
    scope(f"/{DATABASE}/events", query=b"_where=random()>0"),
    scope(f"/{DATABASE}.db"),
    scope("/-/threads.json"),
    scope("/-/actor.json"),
    scope("/-/downloads/events.csv"),
    scope("/other/events"),
], ids=["post", "head", "cookie", "authorization", "sql", "where", "db-download", "threads", "actor", "downloads",
        "unknown-database"])
def test_requests_whose_answer_can_vary_have_no_key(request_scope: dict[str, Any]) -> None:
    assert cache_key(request_scope, frozenset({DATABASE})) is None


def test_nothing_is_cached_while_a_mutable_database_is_served() -> None:
    mixed = SimpleNamespace(databases={DATABASE: SimpleNamespace(is_mutable=False),
                                       "scratch": SimpleNamespace(is_mutable=True)})
    app, calls = counting_app()
    wrapped = cache_responses(app, mixed, store := ResponseCache())
    for _ in range(2):
        asyncio.run(call(wrapped, scope("/")))
    assert len(calls) == 2 and not store.entries


def test_keys_keep_apart_everything_a_page_depends_on() -> None:
    names = frozenset({DATABASE})
    requests = [scope(f"/{DATABASE}/events"), scope(f"/{DATABASE}/events", query=b"_facet=year"),
                scope(f"/{DATABASE}/events", headers=[(b"host", b"elsewhere")]), scope(f"/{DATABASE}/events.json"),
                {**scope(f"/{DATABASE}/events"), "scheme": "https"}, scope("/"), scope("/-/search", query=b"q=a")]
    keys = [cache_key(request, names) for request in requests]
    assert None not in keys and len(set(keys)) == len(keys)


def test_the_least_recently_used_entries_go_first_once_the_cache_is_full() -> None:
    store = ResponseCache(max_bytes=10)
    keys = [("http", b"h", f"/{n}".encode(), b"") for n in range(3)]
    store.put(keys[0], Entry(200, (), b"aaaa"))
    store.put(keys[1], Entry(200, (), b"bbbb"))
    assert store.get(keys[0]) is not None  # now the most recently used
    store.put(keys[2], Entry(200, (), b"cccc"))
    assert list(store.entries) == [keys[0], keys[2]] and store.size == 8


def test_a_burst_on_a_new_page_computes_it_once() -> None:
    app, calls = counting_app()
    wrapped = cache_responses(app, IMMUTABLE, ResponseCache())

    async def burst() -> list[tuple[int, bytes]]:
        return list(await asyncio.gather(*(call(wrapped, scope(f"/{DATABASE}/events")) for _ in range(5))))

    assert asyncio.run(burst()) == [(200, b"body1")] * 5
    assert len(calls) == 1


# The real site


@pytest.fixture
def stores(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[ResponseCache]]:
    """The cache of every app made while the test runs."""
    made: list[ResponseCache] = []

    def recorded() -> ResponseCache:
        made.append(ResponseCache())
        return made[-1]

    monkeypatch.setattr(cache, "ResponseCache", recorded)
    yield made


def fetch(app: Any, path: str, method: str = "GET", headers: dict[str, str] | None = None) -> httpx.Response:
    async def one() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://localhost") as client:
            return await client.request(method, path, headers=headers)

    return asyncio.run(one())


# Query timings are the only text that differs between two computations of a page.
_TIMING = re.compile(rb"(Queries took |\"query_ms\": )[0-9.e-]+")

PAGES = ["/", f"/{DATABASE}/events", f"/{DATABASE}/events.json?_facet=year", f"/{DATABASE}/events/{MARKUP_ID}",
         "/-/search?q=Minsk", "/-/events.atom", f"/{DATABASE}/releases_over_time.json?_shape=array",
         f"/{DATABASE}/quotes.csv"]


IDENTITY = {"accept-encoding": "identity"}
_ENCODING = (b"content-encoding", b"content-length")


def test_cached_pages_are_the_pages_datasette_makes(ds: Datasette, stores: list[ResponseCache]) -> None:
    app = ds.app()
    for path in PAGES:
        first, second, fresh = fetch(app, path), fetch(app, path, headers=IDENTITY), fetch(ds.app(), path)
        zipped = fetch(app, path)  # httpx accepts gzip and decodes it
        assert first.status_code == 200, path
        assert (second.content, second.headers.raw) == (first.content, first.headers.raw), path
        assert _TIMING.sub(b"", fresh.content) == _TIMING.sub(b"", first.content), path
        assert zipped.content == first.content, path
        assert ([header for header in zipped.headers.raw if header[0].lower() not in _ENCODING]
                == [header for header in first.headers.raw if header[0].lower() not in _ENCODING]), path
    assert len(stores[0].entries) == len(PAGES), "every page should have been kept"
    assert all(entry.gzipped for entry in stores[0].entries.values() if len(entry.body) > 2000
               and b"text/" in dict(entry.headers).get(b"content-type", b"")), "every big text page is kept gzipped"


def test_gzip_goes_only_to_clients_that_accept_it(ds: Datasette, stores: list[ResponseCache]) -> None:
    app, path = ds.app(), f"/{DATABASE}/events"
    plain = fetch(app, path, headers=IDENTITY)
    for accept, gzipped in [("gzip", True), ("br, gzip;q=0.5", True), ("*", True), ("deflate", False),
                            ("gzip;q=0", False), ("*;q=0", False), ("gzip;q=x", False), ("identity", False)]:
        sent = asyncio.run(asgi_messages(app, {**scope(path, headers=[(b"host", b"localhost"),
                                                                     (b"accept-encoding", accept.encode())]),
                                               "raw_path": path.encode()}))
        headers = dict((bytes(name).lower(), bytes(value)) for name, value in sent[0]["headers"])
        body = b"".join(message.get("body", b"") for message in sent[1:])
        assert (headers.get(b"content-encoding") == b"gzip") is gzipped, accept
        assert (gzip.decompress(body) if gzipped else body) == plain.content, accept
        assert b"Accept-Encoding" in headers[b"vary"], accept
        if gzipped:
            assert int(headers[b"content-length"]) == len(body) < len(plain.content) // 5, accept


def test_a_cached_page_is_never_served_for_another_url_or_host(ds: Datasette, stores: list[ResponseCache]) -> None:
    app = ds.app()
    events = fetch(app, f"/{DATABASE}/events.json?_shape=array&_size=2").json()
    other = fetch(app, f"/{DATABASE}/events.json?_shape=array&_size=3").json()
    assert len(events) == 2 and len(other) == 3
    here, there = (fetch(app, f"/{DATABASE}/events.json", headers={"host": host}).text for host in ("here", "there"))
    assert "http://here/" in here and "http://there/" in there and "http://here/" not in there


def test_personal_and_visitor_sql_requests_are_not_kept(ds: Datasette, stores: list[ResponseCache]) -> None:
    app = ds.app()
    fetch(app, f"/{DATABASE}/events", headers={"cookie": "ds_actor=x"})
    fetch(app, f"/{DATABASE}.json?sql=" + quote("select 1"))
    fetch(app, f"/{DATABASE}/events", method="POST")
    assert stores[0].entries == {}


def test_a_page_whose_facet_timed_out_is_not_kept(ds: Datasette, stores: list[ResponseCache],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    # 1 ms, checked after every SQLite instruction: Datasette's own array facet over quotes takes far longer.
    monkeypatch.setitem(ds._settings, "facet_time_limit_ms", 1)
    page = fetch(ds.app(), f"/{DATABASE}/quotes?_facet_array=supports")
    assert page.status_code == 200 and "timed out" in page.text
    assert stores[0].entries == {}
