"""The benchmark suite's instrument, not its numbers (speed is measured by `make bench`, never asserted here):
the generated repository is one `validate` accepts and `build` would publish, the same seed gives the same bytes,
the report touches only its part of the README, peak memory counts every process a measured one starts, and the
serving benchmark's client reads whole answers and times the server, not its own queue."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from belarus_releases.check.dataset import check_dataset
from belarus_releases.export.assertions import size_problems
from belarus_releases.export.flatten import flatten
from belarus_releases.layout import Layout
from benchmarks import http_load
from benchmarks.generate import generate
from benchmarks.http_load import Connection, Pool
from benchmarks.measure import PYTHON, Run, measure
from benchmarks.memory import PROC
from benchmarks.report import END, START, markdown, update_readme, wall_time
from benchmarks.run import child_env, compiled, repeated
from benchmarks.serving import summary
from benchmarks.stages import STAGES
from benchmarks.targets import TARGETS, evaluate

RECORDS = 30


def contents(root: Path) -> dict[str, bytes]:
    return {path.relative_to(root).as_posix(): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("generated") / "repo", RECORDS, seed=0).root


def test_the_generated_repository_validates_and_meets_the_assertions(generated: Path) -> None:
    result = check_dataset(Layout(generated))
    assert result.problems == []
    assert len(result.records) == RECORDS
    tables = flatten(result)
    assert result.assertions is not None
    assert list(size_problems(result.assertions, {name: len(rows) for name, rows in tables.items()})) == []
    # every kind of fact the generator means to write is there, so each table is exercised at scale
    assert all(tables[name] for name in ("event_officials", "releases", "release_categories", "sanctions_changes",
                                         "event_links", "event_former_ids", "prisoners_held", "person_roles"))


def test_the_same_seed_gives_the_same_bytes(generated: Path, tmp_path: Path) -> None:
    again = contents(generate(tmp_path / "again", RECORDS, seed=0).root)
    assert again == contents(generated)
    assert contents(generate(tmp_path / "other", RECORDS, seed=1).root) != again


def test_the_report_rewrites_only_what_stands_between_its_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"# Title\n\nBefore.\n\n{START}\nold table\n{END}\n\nAfter.\n", encoding="utf-8")
    assert update_readme(readme, "| new | table |\n")
    assert readme.read_text(encoding="utf-8") == f"# Title\n\nBefore.\n\n{START}\n| new | table |\n{END}\n\nAfter.\n"
    readme.write_text("no markers\n", encoding="utf-8")
    assert not update_readme(readme, "| new |")
    assert readme.read_text(encoding="utf-8") == "no markers\n"


def test_targets_are_met_missed_or_not_measured() -> None:
    results = {"sizes": {"10000": {"build": {"seconds": 4.0, "exit": 0}, "rebuild_one_changed": {"seconds": 2.0, "exit": 0},
                                   "validate": {"seconds": 1.0, "exit": 1}}}}
    rows = {row["key"]: row for row in evaluate(results)}
    assert set(rows) == set(TARGETS)
    assert (rows["build-10k"]["measured"], rows["build-10k"]["met"]) == (4.0, True)
    assert rows["rebuild-one-changed-10k"]["met"] is False
    assert (rows["build-100k"]["measured"], rows["build-100k"]["met"]) == (None, None)


def test_the_p99_of_a_hundred_requests_is_the_ninety_ninth_slowest_not_the_slowest() -> None:
    latencies = [n / 1000 for n in range(100, 0, -1)]  # 1 ms to 100 ms, in no order
    measured = summary(latencies, [200] * 99 + [500], elapsed=2.0)
    assert (measured["p50_ms"], measured["p99_ms"], measured["rps"], measured["failed"]) == (50.5, 99.0, 50.0, 1)
    assert summary([0.25], [200], elapsed=1.0)["p99_ms"] == 250.0


def test_a_repeated_step_shows_its_median_with_the_range() -> None:
    run = {"seconds": 72.8, "cpu_seconds": 118.0, "peak_mib": 933.0, "samples": [80.2, 65.1, 72.8]}
    assert wall_time(run) == "72.8 (65.1–80.2)"
    assert wall_time({"seconds": 0.91}) == "0.91"
    results = {"machine": {"date": "2026-11-27", "cores": 2, "python": "3.11.7"}, "command": "make bench",
               "options": {"repeat": 3}, "targets": [], "sizes": {"100000": {"generate": {"seconds": 9.0}, "build": run}}}
    text = markdown(results)
    assert "validate and each build run 3 times: the median, with the range" in text
    assert "| `build`, cold | 72.8 (65.1–80.2) | 118 | 933 |" in text


def test_the_measured_processes_start_from_the_toolkits_bytecode_as_an_installed_one_does(tmp_path: Path) -> None:
    package = tmp_path / "package"
    (package / "inner").mkdir(parents=True)
    modules = [package / "__init__.py", package / "inner" / "stage.py"]
    for module in modules:
        module.write_text("VALUE = 1\n", encoding="utf-8")
    assert compiled((package,))
    assert all(Path(importlib.util.cache_from_source(str(module))).is_file() for module in modules)
    def results(bytecode_compiled: bool) -> dict[str, Any]:
        return {"machine": {"date": "2026-11-27", "cores": 2, "python": "3.11.7", "bytecode_compiled": bytecode_compiled},
                "command": "make bench", "targets": [], "sizes": {}}

    assert "; the toolkit's bytecode compiled first, as installing it does;" in markdown(results(True))
    assert "bytecode" not in markdown(results(False))


def test_a_failed_run_is_reported_even_when_it_is_not_the_median() -> None:
    def run(seconds: float, exit: int) -> Run:
        return Run(seconds=seconds, cpu_seconds=seconds, peak_mib=1.0, exit=exit)

    runs = iter([run(9.0, 0), run(0.2, 1), run(8.0, 0)])
    reported = repeated(3, lambda _: None, lambda: next(runs))
    assert (reported["exit"], reported["seconds"], reported["samples"]) == (1, 0.2, [9.0, 0.2, 8.0])
    runs = iter([run(9.0, 0), run(7.0, 0), run(8.0, 0)])
    assert repeated(3, lambda _: None, lambda: next(runs))["seconds"] == 8.0


CHILD = "import time; held = b'x' * (80 << 20); time.sleep(0.6)"


@pytest.mark.skipif(not (PROC / "self" / "smaps_rollup").exists(), reason="memory is sampled from Linux's /proc")
def test_peak_memory_is_what_a_process_and_its_children_hold_together_not_its_largest_process() -> None:
    parent = f"import subprocess, sys; held = b'x' * (60 << 20); subprocess.run([sys.executable, '-c', {CHILD!r}])"
    run = measure([PYTHON, "-c", parent])
    assert run.exit == 0
    assert run.largest_process_mib is not None  # the kernel's (which counts a forked child's copy of its parent)
    assert run.peak_mib > 140  # parent and child, both holding theirs: either alone holds less than 100
    ended_at_once = measure(["true"])  # too short for a sample: the kernel's figure, not nothing
    assert ended_at_once.exit == 0 and ended_at_once.peak_mib > 0


def test_every_stage_the_benchmark_times_is_a_function_a_build_runs(generated: Path, tmp_path: Path) -> None:
    # a renamed function would otherwise move its time, unseen, into the stage of the function calling it
    root, out = shutil.copytree(generated, tmp_path / "repo"), tmp_path / "stages.json"
    command = [PYTHON, "-m", "benchmarks.stages", str(out), "build", "--root", str(root)]
    done = subprocess.run(command, env=child_env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    report = json.loads(out.read_text(encoding="utf-8"))
    assert set(report["instrumented"]) == {name for names in STAGES.values() for name in names}
    assert set(report["stages"]) == set(STAGES)


AHEAD = """
import sys
from benchmarks.stages import Instrumented, Timer
with Instrumented(Timer()):
    import belarus_releases.cli
    ahead = sorted(name for name in sys.modules if name.startswith(("belarus_releases.export", "pyarrow")))
    from belarus_releases.export import build, flatten
    wrapped = build.flatten_values.__wrapped__
    print(ahead, build.flatten_values is flatten.flatten_values, wrapped.__module__, hasattr(wrapped, "__wrapped__"))
"""


def test_the_stages_are_timed_without_importing_anything_ahead_of_the_command() -> None:
    # `build` starts its database process before it imports the build; pyarrow is imported by that process only
    done = subprocess.run([PYTHON, "-c", AHEAD], env=child_env(), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["[]", "True", "belarus_releases.export.flatten", "False"]  # wrapped once


ANSWERS = {  # what the server answers for each path; a connection stays open unless the answer says otherwise
    "/length": b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello",
    "/chunked": b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"3\r\nabc\r\n4;note=x\r\ndefg\r\n0\r\nX-Trailer: 1\r\n\r\n",
    "/continue": b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    "/no-content": b"HTTP/1.1 204 No Content\r\n\r\n",
    "/closed": b"HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 2\r\n\r\nno",
    "/old": b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nold",  # HTTP/1.0: closed unless it says keep-alive
    "/to-the-end": b"HTTP/1.1 200 OK\r\n\r\nuntil the end",
    "/then-dropped": b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nidle",  # then closed, as a keep-alive timeout does
}
CLOSING = {"/closed", "/old", "/to-the-end", "/then-dropped"}


async def _serving(handle: Callable[[str], Awaitable[bytes | None]],
                   check: Callable[[str, list[int]], Awaitable[None]]) -> None:
    """A server answering each GET with `handle(path)` (closing the connection after one that ends by closing it, or
    instead of an answer when it is None), for as long as `check(base, connections)` runs; `connections` counts the
    connections it accepted."""
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        with contextlib.suppress(asyncio.IncompleteReadError):  # the client closed the connection
            while request := await reader.readuntil(b"\r\n\r\n"):
                path = request.split(b" ")[1].decode()
                answer = await handle(path)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                if path in CLOSING:
                    break
        writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    async with server, asyncio.timeout(30):  # a client that waits for what never comes fails, not hangs
        await check(f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}", connections)


def test_the_client_reads_each_kind_of_answer_whole_and_keeps_its_connection_open() -> None:
    async def check(base: str, connections: list[int]) -> None:
        connection = Connection(base)
        got = [await connection.get(path) for path in ("/length", "/chunked", "/continue", "/no-content", "/length",
                                                       "/closed", "/old", "/to-the-end", "/then-dropped", "/length")]
        connection.close()
        assert got == [(200, b"hello"), (201, b"abcdefg"), (200, b"ok"), (204, b""), (200, b"hello"), (404, b"no"),
                       (200, b"old"), (200, b"until the end"), (200, b"idle"), (200, b"hello")]
        assert len(connections) == 5  # a new one after each answer that ended it, and only then

    async def answer(path: str) -> bytes | None:
        return ANSWERS[path]

    asyncio.run(_serving(answer, check))


def test_a_request_is_timed_from_when_a_connection_is_free_not_from_when_it_was_asked_for(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """With one connection and two requests at once, the second waits for the first: that wait is the client's."""
    now = [0.0]
    monkeypatch.setattr(http_load, "clock", lambda: now[0])

    async def answer(path: str) -> bytes | None:
        if path not in ANSWERS:
            return None  # no answer: the connection is closed
        now[0] += 10  # each answer takes 10 (fake) seconds
        return ANSWERS[path]

    async def check(base: str, _: list[int]) -> None:
        pool = Pool(base, 1)
        assert await asyncio.gather(pool.timed("/length"), pool.timed("/length")) == [(10, 200), (10, 200)]
        assert await pool.timed("/missing-from-the-server") == (0, 0)  # the server drops it: no answer, status 0
        assert await pool.timed("/length") == (10, 200)  # on the same connection, opened again
        pool.close()

    asyncio.run(_serving(answer, check))
