"""Benchmark the published site: requests per second and p50/p99 latency per kind of request, on 127.0.0.1.

Starts `belarus-releases serve` for the repository (build it first), sends a fixed number of requests of each
kind with a fixed concurrency, then measures the row page while runaway SQL queries hold threads. Prints numbers;
asserts nothing (tests/test_serve_load.py checks the behaviour).

    python scripts/load_test.py                      # the repository in the current folder
    python scripts/load_test.py --requests 500 --concurrency 20
    python scripts/load_test.py --url http://127.0.0.1:8001   # a server that is already running
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx

DATABASE = "belarus-releases"
RUNAWAY_SQL = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
RUNAWAY = f"/{DATABASE}.json?sql=" + quote(RUNAWAY_SQL)


def kinds(event_id: str) -> dict[str, str]:
    return {
        "home page": "/",
        "table page": f"/{DATABASE}/events",
        "table JSON": f"/{DATABASE}/events.json?_shape=array",
        "row page": f"/{DATABASE}/events/{event_id}",
        "row JSON": f"/{DATABASE}/events/{event_id}.json",
        "facet page": f"/{DATABASE}/events?_facet=year",
        "canned query": f"/{DATABASE}/releases_over_time.json?_shape=array",
        "CSV": f"/{DATABASE}/events.csv",
        "CSV stream": f"/{DATABASE}/quotes.csv?_stream=on",
        "LIKE scan": f"/{DATABASE}/quotes.json?text__contains=" + quote("Лукашенко"),
    }


async def timed(client: httpx.AsyncClient, path: str) -> tuple[float, bool]:
    start = time.perf_counter()
    try:
        ok = (await client.get(path)).status_code == 200
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - start, ok


async def burst(client: httpx.AsyncClient, path: str, requests: int, concurrency: int) -> tuple[list[float], int, float]:
    gate = asyncio.Semaphore(concurrency)

    async def one() -> tuple[float, bool]:
        async with gate:
            return await timed(client, path)

    start = time.perf_counter()
    results = await asyncio.gather(*(one() for _ in range(requests)))
    return [seconds for seconds, _ in results], sum(not ok for _, ok in results), time.perf_counter() - start


def report(name: str, latencies: list[float], failures: int, elapsed: float) -> None:
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print(f"{name:<28} {len(ordered):>6} {failures:>6} {len(ordered) / elapsed:>9.1f} {p50:>9.1f} {p99:>9.1f}")


async def row_during_runaways(client: httpx.AsyncClient, path: str, runaways: int) -> tuple[list[float], int, float]:
    """The row page, one request at a time, for as long as `runaways` runaway queries are running."""
    tasks = [asyncio.create_task(client.get(RUNAWAY)) for _ in range(runaways)]
    latencies, failures, start = [], 0, time.perf_counter()
    while not all(task.done() for task in tasks):
        seconds, ok = await timed(client, path)
        latencies.append(seconds)
        failures += not ok
    stopped = [(await task).status_code for task in tasks]
    failures += sum(status not in (400, 429) for status in stopped)  # 429: turned away while others run
    return latencies, failures, time.perf_counter() - start


async def run(base: str, event_id: str, requests: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency + 8)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        await client.get("/")  # the first request computes table counts
        print(f"{requests} requests per kind, {concurrency} at a time, against {base}\n")
        print(f"{'request':<28} {'count':>6} {'failed':>6} {'req/s':>9} {'p50 ms':>9} {'p99 ms':>9}")
        for name, path in kinds(event_id).items():
            report(name, *await burst(client, path, requests, concurrency))
        for runaways in (1, 2, 4, 8):
            latencies, failures, elapsed = await row_during_runaways(client, kinds(event_id)["row page"], runaways)
            report(f"row page, {runaways} runaway SQL", latencies, failures, elapsed)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def server(root: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "belarus_releases", "serve", "--root", str(root), "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if process.poll() is not None:
                sys.exit(f"the server exited with {process.returncode}; run `belarus-releases serve --root {root}` to see why")
            try:
                httpx.get(f"{base}/-/versions.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            sys.exit("the server did not start within a minute")
        yield base
    finally:
        process.terminate()
        process.wait(timeout=15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path("."), help="the dataset repository (default: .)")
    parser.add_argument("--url", help="benchmark a server that is already running on 127.0.0.1")
    parser.add_argument("--requests", type=int, default=200, help="requests per kind (default: 200)")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight at once (default: 10)")
    args = parser.parse_args()
    if args.url and urlsplit(args.url).hostname not in ("127.0.0.1", "localhost"):
        sys.exit("only a server on 127.0.0.1 may be load-tested")
    event_id = sorted(path.stem for path in (args.root / "records").glob("*.yml"))[0]
    if args.url:
        asyncio.run(run(args.url.rstrip("/"), event_id, args.requests, args.concurrency))
        return
    with server(args.root.resolve()) as base:
        asyncio.run(run(base, event_id, args.requests, args.concurrency))


if __name__ == "__main__":
    main()
