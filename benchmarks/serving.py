"""Serving under a bounded load on 127.0.0.1: a fixed number of requests of each kind, a fixed number at a time,
against `belarus-releases serve` and against plain `datasette` (same database, metadata.yml and settings, without
this project's plugin), each a fresh process. Then the event page while runaway SQL queries hold threads. The
requests are sent by a light client (benchmarks/http_load.py), so that the server, not the client, is measured.

    python -m benchmarks.serving REPO            # a built repository: prints the numbers as JSON
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from benchmarks.http_load import Pool
from benchmarks.measure import PYTHON, free_port, running

DATABASE = "belarus-releases"
RUNAWAY_SQL = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
RUNAWAYS = 4
EVENT_PAGES = 20  # distinct event pages, visited in turn


def kinds(event_ids: list[str]) -> dict[str, list[str]]:
    """The requests of each kind; a kind with several paths visits them in turn."""
    return {
        "events JSON with facets": [f"/{DATABASE}/events.json"],  # the facets metadata.yml asks for, `types` among them
        "events table HTML": [f"/{DATABASE}/events"],
        "search": [f"/{DATABASE}/events?_search=Minsk"],
        "event page": [f"/{DATABASE}/events/{event_id}" for event_id in event_ids],
    }


def summary(latencies: list[float], statuses: list[int], elapsed: float) -> dict[str, Any]:
    """Requests per second and latency percentiles; a failure is any answer but 200 (0: no answer at all)."""
    ordered = sorted(latencies)
    failed = Counter(status for status in statuses if status != 200)
    return {"requests": len(ordered), "failed": sum(failed.values()), "rps": round(len(ordered) / elapsed, 1),
            **({"failures": {str(status): count for status, count in sorted(failed.items())}} if failed else {}),
            "p50_ms": round(statistics.median(ordered) * 1000, 1),
            "p99_ms": round(ordered[math.ceil(len(ordered) * 0.99) - 1] * 1000, 1)}  # nearest rank: of 100, the 99th


async def burst(pool: Pool, paths: list[str], requests: int) -> dict[str, Any]:
    """`requests` requests, as many at a time as the pool has connections."""
    for path in paths[:5]:  # warm up: the first request of a page compiles templates and fills caches
        await pool.timed(path)
    start = time.perf_counter()
    results = await asyncio.gather(*(pool.timed(paths[number % len(paths)]) for number in range(requests)))
    return summary([seconds for seconds, _ in results], [status for _, status in results], time.perf_counter() - start)


async def during_runaways(base: str, path: str) -> dict[str, Any]:
    """The event page, one request at a time, for as long as RUNAWAYS runaway SQL queries are running."""
    runaway = f"/{DATABASE}.json?sql=" + quote(RUNAWAY_SQL)
    runaways = [Pool(base, 1) for _ in range(RUNAWAYS)]
    tasks = [asyncio.create_task(pool.timed(runaway)) for pool in runaways]
    pool = Pool(base, 1)
    latencies: list[float] = []
    statuses: list[int] = []
    start = time.perf_counter()
    try:
        while not all(task.done() for task in tasks) or not latencies:  # each runaway ends by TIMEOUT at the latest
            seconds, status = await pool.timed(path)
            latencies.append(seconds)
            statuses.append(status)
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        for each in (pool, *runaways):
            each.close()
    return summary(latencies, statuses, time.perf_counter() - start)


async def load(base: str, event_ids: list[str], requests: int, concurrency: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:
        plugins = [plugin["name"] for plugin in (await client.get("/-/plugins.json")).json()]
    pool = Pool(base, concurrency)
    try:
        results = {name: await burst(pool, paths, requests) for name, paths in kinds(event_ids).items()}
    finally:
        pool.close()
    results[f"event page, {RUNAWAYS} runaway SQL queries"] = await during_runaways(base, kinds(event_ids)["event page"][0])
    return {"plugins": plugins, "kinds": results}


def _settings() -> list[str]:
    """The site's settings as command-line options, so that the peer differs by the plugin only."""
    try:
        from belarus_releases.site.settings import setting_arguments
    except ImportError:
        return []
    arguments: list[str] = setting_arguments()
    return arguments


def commands(root: Path, port: int) -> dict[str, list[str]]:
    database = root / "build" / "current" / f"{DATABASE}.db"
    return {
        "ours": [PYTHON, "-m", "belarus_releases", "serve", "--root", str(root), "--port", str(port)],
        "datasette": [PYTHON, "-m", "benchmarks.peers", "datasette", "serve", "-i", str(database),
                      "-m", str(root / "metadata.yml"), "--port", str(port), *_settings()],
    }


def event_sample(root: Path) -> list[str]:
    ids = sorted(path.stem for path in (root / "records").glob("*.yml"))
    step = max(1, len(ids) // EVENT_PAGES)
    return ids[::step][:EVENT_PAGES]


def serve_benchmark(root: Path, requests: int, concurrency: int, *, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Both servers in turn, each measured from start to stop (its peak memory included)."""
    results: dict[str, Any] = {}
    for name in ("ours", "datasette"):
        port = free_port()
        with running(commands(root, port)[name], port, env=env) as server:
            results[name] = asyncio.run(load(server.base, event_sample(root), requests, concurrency))
        if server.run is not None:
            results[name].update(peak_mib=round(server.run.peak_mib, 1), cpu_seconds=round(server.run.cpu_seconds, 2))
    return results


if __name__ == "__main__":
    print(json.dumps(serve_benchmark(Path(sys.argv[1]).resolve(), 200, 10), indent=1))
