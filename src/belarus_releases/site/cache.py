"""A bounded in-process cache of whole responses, for pages of a database that never changes while it is served.

Datasette renders a 100-row table page in 40-100 ms of Python; the same URL gives the same bytes for as long
as the process runs, because the database is opened immutable. So a GET whose answer can only depend on its
URL is answered from memory after the first time: same status, headers and body as Datasette gave, and the
security headers are added outside the cache as for every response.

What is cached, and only then:
- every database served is immutable (`datasette -i`, `belarus-releases serve`, `datasette publish`); a mutable
  one, even beside ours, turns the cache off;
- a GET without cookies or Authorization (Datasette treats those as personal too), and without visitor-written
  SQL (`?sql=` can call random() or date('now'));
- the home page, the site's search and feed, and pages under an immutable database's own path, not its
  download (`/name.db`), Datasette's /-/ pages (threads, actor) or the downloads;
- a 200 response without set-cookie, under MAX_ENTRY bytes, and during which no query failed or ran out of
  time: a facet or count that timed out leaves a 200 page with a gap, which the next request may fill.

The key is the scheme, Host (Datasette writes absolute links with it), path and query string, exactly as sent.
A text entry also holds its body gzipped, sent to clients that accept gzip (site/compress.py says why).
Requests for a URL that is being computed wait for that answer (at most FOLLOW_SECONDS) instead of computing
it again, so a burst on a new page does the work once. The entry is kept before its last part is sent, so a
client that reads slowly holds the others back only on a streamed response. Each process has its own cache,
emptied when it restarts, which serving a new build needs anyway (the database is opened immutable).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import MutableMapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from belarus_releases.site.compress import MIN_BYTES, accepts_gzip, compressed, compressible, gzip_headers, with_vary
from belarus_releases.site.middleware import ASGIApp, Message, Receive, Send, has_visitor_sql

MAX_BYTES = 64 * 1024 * 1024  # all entries together
MAX_ENTRY = 8 * 1024 * 1024  # one response; the home page at 10,000 events is 0.4 MB, most of it the chart
FOLLOW_SECONDS = 10.0  # far above the slowest kept page: the home page at 10,000 events, about 0.3 s on a busy machine
SITE_PATHS = frozenset({"/", "/-/search", "/-/events.atom"})
_PERSONAL = (b"cookie", b"authorization")
_NOT_SHARED = (b"no-store", b"private")

Key = tuple[str, bytes, bytes, bytes]


@dataclass(frozen=True)
class Entry:
    """One response as the application sent it, and its body gzipped when it is text (site/compress.py)."""

    status: int
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    gzipped: bytes | None = None

    @property
    def size(self) -> int:
        return len(self.body) + len(self.gzipped or b"")


@dataclass
class Outcome:
    """Whether every query a request ran succeeded; shared with the tasks the request starts (a context variable)."""

    complete: bool = True


_OUTCOME: ContextVar[Outcome | None] = ContextVar("belarus_releases_response_outcome", default=None)


def query_failed() -> None:
    """Called when a query fails or is interrupted: the response being made is not cached."""
    outcome = _OUTCOME.get()
    if outcome is not None:
        outcome.complete = False


@dataclass
class ResponseCache:
    """Entries by key, least recently used dropped first once they pass `max_bytes`."""

    max_bytes: int = MAX_BYTES
    entries: OrderedDict[Key, Entry] = field(default_factory=OrderedDict)
    size: int = 0

    def get(self, key: Key) -> Entry | None:
        entry = self.entries.get(key)
        if entry is not None:
            self.entries.move_to_end(key)
        return entry

    def put(self, key: Key, entry: Entry) -> None:
        old = self.entries.pop(key, None)
        self.size += entry.size - (old.size if old else 0)
        self.entries[key] = entry
        while self.size > self.max_bytes:
            _, dropped = self.entries.popitem(last=False)
            self.size -= dropped.size


def immutable_databases(datasette: Any) -> frozenset[str] | None:
    """The names of the databases served, or None when any of them can change (Datasette's _internal aside)."""
    databases = {name: db for name, db in datasette.databases.items() if name != "_internal"}
    if any(db.is_mutable for db in databases.values()):
        return None
    return frozenset(databases)


def cacheable_path(path: str, databases: frozenset[str]) -> bool:
    if path in SITE_PATHS:
        return True
    first = path[1:].split("/", 1)[0]
    return any(first in (name, f"{name}.json") for name in databases)


def cache_key(scope: MutableMapping[str, Any], databases: frozenset[str] | None) -> Key | None:
    """The request's key, or None when its response must not be cached."""
    if databases is None or scope["type"] != "http" or scope["method"] != "GET":
        return None
    headers = {bytes(name).lower(): bytes(value) for name, value in scope.get("headers", [])}
    if any(name in headers for name in _PERSONAL) or has_visitor_sql(scope):
        return None
    if not cacheable_path(scope["path"], databases):
        return None
    raw_path = bytes(scope.get("raw_path") or scope["path"].encode("utf-8"))
    return str(scope.get("scheme", "http")), headers.get(b"host", b""), raw_path, bytes(scope.get("query_string", b""))


def shareable(message: Message) -> bool:
    """Whether a response's start can be cached: a 200 that sets no cookie and does not forbid sharing."""
    if message["status"] != 200:
        return False
    for name, value in message.get("headers", []):
        name = bytes(name).lower()
        if name == b"set-cookie" or (name == b"cache-control" and any(word in bytes(value) for word in _NOT_SHARED)):
            return False
    return True


async def replay(entry: Entry, scope: MutableMapping[str, Any], send: Send) -> None:
    if entry.gzipped is not None and accepts_gzip(scope):
        headers, body = gzip_headers(entry.headers, len(entry.gzipped)), entry.gzipped
    else:
        headers, body = list(entry.headers), entry.body
    await send({"type": "http.response.start", "status": entry.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def cache_responses(app: ASGIApp, datasette: Any, cache: ResponseCache | None = None) -> ASGIApp:
    """ASGI middleware: answer cacheable requests (see the module's docstring) from `cache`, filling it as it goes."""
    store = cache if cache is not None else ResponseCache()
    pending: dict[Key, asyncio.Future[Entry | None]] = {}

    async def wrapped(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        key = cache_key(scope, immutable_databases(datasette))
        if key is None:
            await app(scope, receive, send)
            return
        entry = store.get(key)
        if entry is None and key in pending:
            entry = await _follow(pending[key])
        if entry is not None:
            await replay(entry, scope, send)
            return
        leader = asyncio.get_running_loop().create_future()
        pending.setdefault(key, leader)
        try:
            await _record(app, scope, receive, send, store, key, leader)
        finally:
            if pending.get(key) is leader:
                del pending[key]
            if not leader.done():
                leader.set_result(None)

    return wrapped


async def _follow(future: asyncio.Future[Entry | None]) -> Entry | None:
    """The answer another request is making for the same key, or None if it is not cached or takes too long."""
    try:
        return await asyncio.wait_for(asyncio.shield(future), FOLLOW_SECONDS)
    except TimeoutError:
        return None


async def _record(app: ASGIApp, scope: MutableMapping[str, Any], receive: Receive, send: Send,
                  store: ResponseCache, key: Key, leader: asyncio.Future[Entry | None]) -> None:
    """Run the application, sending every message on as it comes, and keep a copy if the response qualifies."""
    outcome = Outcome()
    token = _OUTCOME.set(outcome)
    start: Message | None = None
    chunks: list[bytes] = []
    size = 0

    async def copying_send(message: Message) -> None:
        nonlocal start, size
        if message["type"] == "http.response.start":
            start = message if shareable(message) else None
            if start is not None and compressible(start.get("headers", [])):
                # every copy of a response that may be kept varies by encoding, this first one too
                start = message = {**message, "headers": list(with_vary(message.get("headers", [])))}
        elif message["type"] == "http.response.body" and start is not None:
            body = bytes(message.get("body", b""))
            size += len(body)
            chunks.append(body)
            if size > MAX_ENTRY:
                start = None
                chunks.clear()
            elif not message.get("more_body", False) and outcome.complete:
                entry = await _entry(start, b"".join(chunks))
                store.put(key, entry)
                if not leader.done():
                    leader.set_result(entry)
        if start is None and not leader.done():
            leader.set_result(None)  # known not to be cached: those waiting need not wait for the rest
        await send(message)

    try:
        await app(scope, receive, copying_send)
    finally:
        _OUTCOME.reset(token)


async def _entry(start: Message, body: bytes) -> Entry:
    """The entry for a finished response; gzip runs in a thread (zlib lets go of the GIL), not on the event loop."""
    headers = tuple((bytes(name), bytes(value)) for name, value in start.get("headers", []))
    gzipped = await asyncio.to_thread(compressed, body) if compressible(headers) and len(body) >= MIN_BYTES else None
    return Entry(start["status"], headers, body, gzipped)
