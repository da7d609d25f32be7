"""A Datasette plugin that adds security headers to every response (Datasette 0.65 sends none of these).

The Content-Security-Policy allows scripts only from this site and the few inline scripts that Datasette's own
templates contain, each by the SHA-256 of its text. The hashes are worked out from the template *sources* at
startup, never from rendered pages: hashing a rendered page would also bless anything reflected into it
(the risk simonw/datasette#1362 warns about). An inline script that contains template code is left unhashed,
so the browser refuses it, except table.html's one-liner whose only variable is the allow_facet setting.

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

import jinja2
from pluggy import HookimplMarker

# The same marker as `datasette.hookimpl`, taken from pluggy so that the hook keeps its types.
hookimpl = HookimplMarker("datasette")

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

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


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    headers = security_headers(content_security_policy(inline_script_hashes(datasette.jinja_env)))

    def wrap(app: ASGIApp) -> ASGIApp:
        return with_headers(app, headers)

    return wrap
