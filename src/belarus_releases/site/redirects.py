"""No redirect may send a browser to another site (an open redirect).

Datasette redirects `/x/` to `/x`, and so `/\\example.com/` to `/\\example.com`, which browsers follow to
example.com: they read a backslash as a slash and drop tabs and newlines, so `/\\host`, `\\\\host`,
`/<tab>/host` and `///host` all mean `//host` (simonw/datasette#2429, #2680). Rather than chase each of
Datasette's redirects, the middleware looks at every redirect's Location the way a browser would, and answers
404 instead of one that would leave the site: every such redirect Datasette makes is for a path that is not
a page here anyway (`/\\example.com` names no database), so 404 is what the request deserves.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any
from urllib.parse import unquote

from belarus_releases.site.middleware import ASGIApp, Message, Receive, Send

# WHATWG URL parsing removes ASCII tab and newline anywhere and strips C0 controls and spaces at both ends.
_TAB_OR_NEWLINE = re.compile("[\t\n\r]")
_C0_OR_SPACE = "".join(chr(code) for code in range(0x21))
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:")
_AUTHORITY_END = re.compile(r"[/?#]")


def leaves_site(location: str, host: str) -> bool:
    """Whether a browser at `host` (the request's Host header) would follow `location` to another host.

    Checked as sent and percent-decoded once: a browser does not decode a Location's path, but a proxy or
    a later redirect might, and no page of this site needs a Location that is only safe while encoded.
    """
    return any(_off_site(_as_browser_reads(text), host) for text in (location, unquote(location)))


def _as_browser_reads(location: str) -> str:
    return _TAB_OR_NEWLINE.sub("", location).strip(_C0_OR_SPACE).replace("\\", "/")


def _off_site(url: str, host: str) -> bool:
    scheme = _SCHEME.match(url)
    if scheme is None:
        return url.startswith("//")  # protocol-relative; a path or a relative reference stays here
    rest = url[scheme.end():]
    if scheme.group().lower() not in ("http:", "https:") or not rest.startswith("//"):
        return True  # `javascript:`; `https:host`, which an http page's browser reads as https://host
    authority = _AUTHORITY_END.split(rest.lstrip("/"), maxsplit=1)[0]
    return authority.rpartition("@")[2].lower() != host.lower()


def _request_host(scope: MutableMapping[str, Any]) -> str:
    for name, value in scope.get("headers", []):
        if bytes(name).lower() == b"host":
            return bytes(value).decode("latin-1")
    return ""  # no Host header: no absolute Location can be ours


def _locations(message: Message) -> list[str]:
    return [bytes(value).decode("latin-1") for name, value in message.get("headers", [])
            if bytes(name).lower() == b"location"]


def refuse_off_site_redirects(app: ASGIApp) -> ASGIApp:
    """ASGI middleware: a redirect whose Location would take the browser to another host becomes a 404."""

    async def wrapped(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        host = _request_host(scope)
        refused = False

        async def send_unless_off_site(message: Message) -> None:
            nonlocal refused
            if message["type"] == "http.response.start" and 300 <= message["status"] < 400 and any(
                    leaves_site(location, host) for location in _locations(message)):
                refused = True
                await _not_found(send)
            elif not refused:  # the refused redirect's body is dropped
                await send(message)

        await app(scope, receive, send_unless_off_site)

    return wrapped


async def _not_found(send: Send) -> None:
    await send({"type": "http.response.start", "status": 404,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": b"Not found.\n"})
