"""Gzip for the response cache (site/cache.py): a cached text response is compressed once, when it is kept, and
sent compressed to every client that accepts gzip; the others get the bytes Datasette made.

A 100-row table page is 270 kB of HTML and 17 kB gzipped: sending and reading the smaller copy is most of what a
cached page costs client and server, and far less on a reader's connection. Level 4 compresses 270 kB in about
1.5 ms for a ratio close to level 6's, which takes about five times longer.

Only what the cache keeps is compressed, and it keeps nothing personal (no cookie, no Authorization, no
set-cookie), so no page compressed here holds a secret that a reflected query could help guess (BREACH).
Every response the cache may keep says `Vary: Accept-Encoding`, the identity copy too, so that a shared cache
in front of the site keeps the two apart.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterable, MutableMapping
from typing import Any

Headers = tuple[tuple[bytes, bytes], ...]

LEVEL = 4
MIN_BYTES = 1024  # below this the gzip header and a round trip to a thread cost more than they save
_COMPRESSIBLE = (b"text/", b"application/json", b"application/xml", b"application/atom+xml", b"image/svg+xml",
                 b"application/javascript")
_VARY = b"Accept-Encoding"


def _value(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    for key, value in headers:
        if bytes(key).lower() == name:
            return bytes(value)
    return None


def compressible(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether a response with these headers is text that is not encoded already."""
    headers = list(headers)
    content_type = (_value(headers, b"content-type") or b"").lower()
    return _value(headers, b"content-encoding") is None and content_type.startswith(_COMPRESSIBLE)


def with_vary(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    """The headers with Accept-Encoding added to Vary (Datasette sends `vary: Cookie, Authorization`)."""
    headers = [(bytes(name), bytes(value)) for name, value in headers]
    vary = _value(headers, b"vary")
    if vary is not None and _VARY.lower() in [part.strip().lower() for part in vary.split(b",")]:
        return tuple(headers)
    merged = _VARY if not vary else vary + b", " + _VARY
    return (*((name, value) for name, value in headers if name.lower() != b"vary"), (b"vary", merged))


def compressed(body: bytes) -> bytes | None:
    """The gzipped body (no timestamp, so the same body always gives the same bytes), or None when too small."""
    if len(body) < MIN_BYTES:
        return None
    return gzip.compress(body, LEVEL, mtime=0)


def gzip_headers(headers: Headers, length: int) -> list[tuple[bytes, bytes]]:
    """The headers of the gzipped copy: the same, with its encoding and length."""
    kept = [(name, value) for name, value in headers if name.lower() not in (b"content-length", b"content-encoding")]
    return [*kept, (b"content-encoding", b"gzip"), (b"content-length", str(length).encode("ascii"))]


def accepts_gzip(scope: MutableMapping[str, Any]) -> bool:
    """Whether the request's Accept-Encoding allows gzip: named (or `*`) without q=0 (RFC 9110, 12.5.3)."""
    raw = _value(((bytes(name).lower(), value) for name, value in scope.get("headers", [])), b"accept-encoding")
    if raw is None:
        return False
    weights: dict[bytes, bool] = {}
    for item in raw.lower().split(b","):
        coding, _, parameters = item.strip().partition(b";")
        weights[coding.strip()] = _positive(parameters)
    for coding in (b"gzip", b"x-gzip", b"*"):
        if coding in weights:
            return weights[coding]
    return False


def _positive(parameters: bytes) -> bool:
    """Whether `q=…` (if any) is above zero; a malformed weight says no (identity is always safe)."""
    for parameter in parameters.split(b";"):
        name, _, value = parameter.strip().partition(b"=")
        if name.strip() == b"q":
            try:
                return float(value.strip()) > 0
            except ValueError:
                return False
    return True
