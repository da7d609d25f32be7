"""The site's ASGI middleware: security headers on every response (Datasette 0.65 sends none of these), and a
cap on how many visitor-written SQL queries run at once. The plugin (site/plugin/) wraps Datasette in both.

The Content-Security-Policy allows scripts only from this site and the few inline scripts that Datasette's own
templates contain, each by the SHA-256 of its text. The hashes are worked out from the template *sources* at
startup, never from rendered pages: hashing a rendered page would also bless anything reflected into it
(the risk simonw/datasette#1362 warns about). An inline script that contains template code is left unhashed,
so the browser refuses it, except table.html's one-liner whose only variable is the allow_facet setting.
One script is refused on purpose: the "query took too long" error page (built in Python, not a template) has
a line that resizes its textarea; without it the textarea is merely short.

Styles keep 'unsafe-inline': Datasette writes `style="border-color: #…"` attributes and per-table <style>
blocks built from column names, which cannot be hashed ahead of time. What that leaves open is CSS injection,
not script: Jinja autoescapes every value, column names pass `escape_css_string`, and with img-src, font-src
and connect-src limited to this site, injected CSS cannot send data anywhere else.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Awaitable, Callable, Iterable, Iterator, MutableMapping
from typing import Any
from urllib.parse import parse_qs

import jinja2

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

_VISITOR_SQL = {"sql", "_where"}
_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)
_TEMPLATE_CODE = ("{{", "{%", "{#")
# table.html: `<script>DATASETTE_ALLOW_FACET = {{ datasette_allow_facet }};</script>`, "true" or "false".
_FACET_FLAG = "{{ datasette_allow_facet }}"


def _sha256(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


def _variants(body: str) -> Iterator[str]:
    """The texts an inline script can render to, or nothing when it depends on request data."""
    if _FACET_FLAG in body:
        for value in ("true", "false"):
            yield from _variants(body.replace(_FACET_FLAG, value))
    elif not any(code in body for code in _TEMPLATE_CODE):
        yield body


def inline_script_hashes(env: jinja2.Environment) -> list[str]:
    """CSP hash sources for every fixed inline <script> in the templates Datasette can render."""
    if env.loader is None:
        return []
    found: set[str] = set()
    for name in env.list_templates(extensions=["html"]):
        source = env.loader.get_source(env, name)[0]
        for body in _INLINE_SCRIPT.findall(source):
            found.update(_sha256(text) for text in _variants(body))
    return sorted(found)


def content_security_policy(script_hashes: Iterable[str]) -> str:
    directives = {
        "default-src": "'none'",
        "script-src": " ".join(["'self'", *script_hashes]),
        "style-src": "'self' 'unsafe-inline'",
        "img-src": "'self' data:",  # app.css and the SQL editor draw icons as data: SVGs
        "font-src": "'self'",
        "connect-src": "'self'",
        "form-action": "'self'",
        "base-uri": "'none'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def security_headers(policy: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"content-security-policy", policy.encode("ascii")),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),  # for browsers that predate frame-ancestors
        (b"referrer-policy", b"no-referrer"),
    ]


def with_headers(app: ASGIApp, headers: list[tuple[bytes, bytes]]) -> ASGIApp:
    """ASGI middleware: replace any header of the same name (Datasette sets referrer-policy itself) with ours."""
    names = {name for name, _ in headers}

    async def wrapped(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(name, value) for name, value in message.get("headers", []) if bytes(name).lower() not in names]
                message = {**message, "headers": kept + headers}
            await send(message)

        await app(scope, receive, send_with_headers)

    return wrapped


def has_visitor_sql(scope: MutableMapping[str, Any]) -> bool:
    """Whether the request carries SQL written by the visitor: ?sql= or a table page's ?_where=."""
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    return bool(_VISITOR_SQL & set(query))


def visitor_sql_limit(num_sql_threads: int) -> int:
    """How many visitor-written queries may run at once: half the SQL threads Datasette really has, at least one.

    From the running instance, not from SETTINGS: a plain `datasette` process keeps the thread count it was
    started with (the plugin cannot change it afterwards), and half of fewer threads is a stricter cap.
    """
    return max(1, num_sql_threads // 2)


def limit_visitor_sql(app: ASGIApp, limit: int) -> ASGIApp:
    """ASGI middleware: at most `limit` requests with visitor-written SQL at once; the rest get 429 at once.

    Each such query may hold an SQL thread for the whole time limit; capping them below num_sql_threads keeps
    threads free for every other page, however many runaway queries arrive together.
    """
    running = 0

    async def wrapped(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        nonlocal running
        if scope["type"] != "http" or not has_visitor_sql(scope):
            await app(scope, receive, send)
        elif running >= limit:
            await _too_many_queries(send)
        else:
            running += 1  # one event loop, and no await since the check: no lock needed
            try:
                await app(scope, receive, send)
            finally:
                running -= 1

    return wrapped


async def _too_many_queries(send: Send) -> None:
    headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"retry-after", b"1")]
    await send({"type": "http.response.start", "status": 429, "headers": headers})
    await send({"type": "http.response.body", "body": b"Too many SQL queries are running; try again in a second.\n"})
