"""A light HTTP/1.1 client for the serving benchmark: keep-alive connections that send GETs and read whole answers.

The load runs on the same two cores as the server it measures. httpx used 2.6 ms of CPU for each cached events
page (measured over 1,000 requests, 10 at a time), four times what the server took (0.67 ms): the client was the
busy process, and the latencies measured were mostly its own queue (at one request at a time, 3 ms; at ten, p99
60-180 ms from one run to the next). This client only writes the request and reads the answer's bytes (by
Content-Length, chunked, or to the end of the connection): nothing is decoded, as a browser would on its own CPU.
"""

from __future__ import annotations

import asyncio
import re
import time
from urllib.parse import urlsplit

TIMEOUT = 120.0  # seconds for one answer, as the httpx client had: a server that never answers fails the request
_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*([0-9]+)", re.IGNORECASE)
_CHUNKED = re.compile(rb"\r\ntransfer-encoding:[^\r\n]*chunked", re.IGNORECASE)
_CLOSE = re.compile(rb"\r\nconnection:[^\r\n]*close", re.IGNORECASE)
_KEEP_ALIVE = re.compile(rb"\r\nconnection:[^\r\n]*keep-alive", re.IGNORECASE)
_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})")


def clock() -> float:
    return time.perf_counter()


class Connection:
    """One connection to `base` (http://host:port), opened on first use and again after the server closes it."""

    def __init__(self, base: str) -> None:
        parts = urlsplit(base)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def get(self, path: str) -> tuple[int, bytes]:
        """The status and body (as sent: gzipped if the server chose to) of GET `path`; raises OSError or
        asyncio.IncompleteReadError when the connection fails. A kept connection that the server closed meanwhile
        (its keep-alive timeout) is opened again, and the request sent once more if it got no answer at all."""
        if self.streams is not None and self.streams[0].at_eof():
            self.close()
        kept = self.streams is not None
        try:
            return await self._exchange(path)
        except (OSError, asyncio.IncompleteReadError) as error:
            if not kept or (isinstance(error, asyncio.IncompleteReadError) and error.partial):
                raise
            return await self._exchange(path)  # a GET may be sent again

    async def _exchange(self, path: str) -> tuple[int, bytes]:
        if self.streams is None:
            self.streams = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.streams
        try:
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nAccept-Encoding: gzip\r\n\r\n"
                         .encode())
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                found = _STATUS.match(head)
                if found is None:
                    raise OSError(f"not an HTTP answer: {head[:40]!r}")
                version, status = found.group(1), int(found.group(2))
                if status not in range(100, 200):  # an interim answer (100 Continue): the final one follows
                    break
            body, done = (b"", False) if status in (204, 304) else await _body(reader, head)
        except BaseException:
            self.close()
            raise
        if done or _CLOSE.search(head) or (version == b"0" and not _KEEP_ALIVE.search(head)):
            self.close()
        return status, body

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def _body(reader: asyncio.StreamReader, head: bytes) -> tuple[bytes, bool]:
    """The body after `head`, and whether the connection ended with it."""
    if _CHUNKED.search(head):
        parts = []
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, then the blank line
            pass
        return b"".join(parts), False
    length = _LENGTH.search(head)
    if length is not None:
        return await reader.readexactly(int(length.group(1))), False
    return await reader.read(), True


class Pool:
    """`size` connections, each answering one request at a time: at most `size` requests in flight."""

    def __init__(self, base: str, size: int) -> None:
        self.idle: asyncio.Queue[Connection] = asyncio.Queue()
        for _ in range(size):
            self.idle.put_nowait(Connection(base))

    async def timed(self, path: str) -> tuple[float, int]:
        """The seconds GET `path` took once a connection was free (the wait for one is not counted: it is the
        client's queue, not the server's), and its status; 0 when no answer came within TIMEOUT."""
        connection = await self.idle.get()
        start = clock()
        try:
            async with asyncio.timeout(TIMEOUT):  # (TimeoutError is an OSError)
                status, _ = await connection.get(path)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            status = 0  # the connection was closed: the next request opens it again
        finally:
            self.idle.put_nowait(connection)
        return clock() - start, status

    def close(self) -> None:
        while not self.idle.empty():
            self.idle.get_nowait().close()
