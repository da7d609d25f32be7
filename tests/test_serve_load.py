"""A bounded load test against a real server on 127.0.0.1: a fixed number of requests, each with a timeout.

It asserts what must hold under load (every request answered, a runaway query stopped, the site answering
meanwhile), never how fast: `make bench` (benchmarks/serving.py) measures requests per second and latency percentiles.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest

from belarus_releases.layout import Layout
from served import DATABASE, running_server

pytestmark = pytest.mark.server

REQUESTS = 300
CONCURRENCY = 10
RUNAWAYS = 5  # more than num_sql_threads: the plugin lets half of them run and turns the rest away
RUNAWAY_SQL = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
RUNAWAY = f"/{DATABASE}.json?sql=" + quote(RUNAWAY_SQL)


@pytest.fixture(scope="module")
def server(site: Layout, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_server(site, tmp_path_factory.mktemp("load") / "server.log") as base:
        yield base


def mix(event_id: str) -> list[str]:
    """Pages, JSON and CSV (a full CSV stream among them) in the proportions of ordinary browsing."""
    return [
        f"/{DATABASE}/events",
        f"/{DATABASE}/events.json?_shape=array",
        f"/{DATABASE}/events/{event_id}",
        f"/{DATABASE}/events.csv",
        f"/{DATABASE}/quotes.csv?_stream=on",
        f"/{DATABASE}/releases_over_time.json?_shape=array",
        f"/{DATABASE}/events?_facet=year",
        "/",
    ]


async def traffic(client: httpx.AsyncClient, paths: list[str]) -> list[tuple[str, int]]:
    """Every path once, CONCURRENCY at a time; (path, status), with 0 for a request that failed outright."""
    gate = asyncio.Semaphore(CONCURRENCY)

    async def one(path: str) -> tuple[str, int]:
        async with gate:
            try:
                return path, (await client.get(path)).status_code
            except httpx.HTTPError:
                return path, 0

    return list(await asyncio.gather(*(one(path) for path in paths)))


async def scenario(base: str, event_id: str) -> tuple[list[httpx.Response], list[int], list[tuple[str, int]]]:
    paths = list(itertools.islice(itertools.cycle(mix(event_id)), REQUESTS))
    limits = httpx.Limits(max_connections=CONCURRENCY + 4)
    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as client:
        runaways = [asyncio.create_task(client.get(RUNAWAY)) for _ in range(RUNAWAYS)]
        background = asyncio.create_task(traffic(client, paths))
        meanwhile = []
        while not all(task.done() for task in runaways):  # ends: each runaway is stopped, or times out
            meanwhile.append((await client.get(f"/{DATABASE}/events/{event_id}")).status_code)
        return [await task for task in runaways], meanwhile, await background


def test_site_answers_every_request_while_runaway_queries_are_stopped(server: str, site: Layout) -> None:
    event_id = sorted(path.stem for path in site.records.glob("*.yml"))[0]
    runaways, meanwhile, answered = asyncio.run(asyncio.wait_for(scenario(server, event_id), timeout=600))
    stopped = [response for response in runaways if response.status_code == 400]
    turned_away = [response for response in runaways if response.status_code == 429]
    assert len(stopped) + len(turned_away) == RUNAWAYS
    assert 1 <= len(stopped) <= 2, "num_sql_threads // 2 visitor queries may run at once"
    assert all("SQL query took too long" in response.json()["error"] for response in stopped)
    assert all(response.headers["retry-after"] == "1" for response in turned_away)
    assert meanwhile and set(meanwhile) == {200}, "the row page must answer while the runaway queries run"
    failed = [(path, status) for path, status in answered if status != 200]
    assert (len(answered), failed) == (REQUESTS, [])
