"""Helpers for the serving tests: a built copy of the dataset, a record full of markup, and a real server.

The record's title, summary, notes and quote carry <script> and onerror payloads. To the toolkit they are only
text, so it must accept them and Datasette must show them as text. Each payload, if it ever ran, would leave a
mark (a `data-xss` attribute or an XSS-… document title) that the browser tests look for.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, MutableMapping
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import markupsafe
import pytest
import yaml
from datasette.app import Datasette

from belarus_releases.export.build import build_dataset
from belarus_releases.layout import Layout
from conftest import copy_dataset

DATABASE = "belarus-releases"
RUNAWAY = "with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c"
MARKUP_ID = "2025-03-03-inert-markup-test"
MARKUP_SOURCE = "zz-inert-markup-test.txt"
MARKUP = {
    "title": 'Inert <script>document.title="XSS-TITLE"</script> markup test',
    "summary": "A summary with <img src=x onerror=\"document.body.setAttribute('data-xss','summary')\"> inside",
    "notes": "Notes with <svg onload=\"document.body.setAttribute('data-xss','notes')\"></svg> and "
             '<script>document.title="XSS-NOTES"</script> inside',
    "quote": 'A quote with <script>document.body.setAttribute("data-xss","quote")</script> and '
             "<img src=x onerror=\"document.title='XSS-QUOTE'\"> inside",
}


def add_markup_record(layout: Layout) -> None:
    """A valid record whose every free-text field is HTML, citing a source file that holds its quote."""
    document = f"Test document.\n\n{MARKUP['quote']}\n".encode()
    (layout.sources / MARKUP_SOURCE).write_bytes(document)
    registry = layout.source_registry.read_text(encoding="utf-8")
    indent = re.search(r"^( *)- file:", registry, re.MULTILINE)
    pad = indent.group(1) if indent else "  "
    registry = registry.rstrip("\n") + (f"\n{pad}- file: {MARKUP_SOURCE}\n{pad}  title: Inert markup test document\n"
                                        f"{pad}  language: en\n{pad}  sha256: {hashlib.sha256(document).hexdigest()}\n")
    layout.source_registry.write_text(registry, encoding="utf-8")
    # JSON strings are valid YAML double-quoted scalars, so every value is written exactly as it is.
    record = "\n".join([
        f"id: {MARKUP_ID}",
        "date:",
        "  value: '2025-03-03'",
        "  precision: day",
        f"title: {json.dumps(MARKUP['title'])}",
        f"summary: {json.dumps(MARKUP['summary'])}",
        "types: [statement]",
        "sources:",
        f"  - file: {MARKUP_SOURCE}",
        "    quotes:",
        f"      - text: {json.dumps(MARKUP['quote'])}",
        "        supports: [event, date]",
        f"notes: {json.dumps(MARKUP['notes'])}",
        "",
    ])
    (layout.records / f"{MARKUP_ID}.yml").write_text(record, encoding="utf-8")


def build(layout: Layout) -> Layout:
    """Build the database with the real build stage, failing the test with its problems if it has any."""
    result = build_dataset(layout)
    assert result.ok, "the build failed:\n" + "\n".join(problem.to_text() for problem in result.problems)
    assert layout.database.is_file(), f"build_dataset did not write {layout.database}"
    return layout


def built_site(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """A copy of the real dataset plus the markup record, built with the real build stage."""
    layout = copy_dataset(tmp_path_factory.mktemp("site") / "repo")
    add_markup_record(layout)
    return build(layout)


def get(ds: Datasette, path: str) -> httpx.Response:
    """One request through Datasette's in-process client."""
    response: httpx.Response = asyncio.run(ds.client.get(path))
    return response


def metadata(layout: Layout) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(layout.metadata.read_text(encoding="utf-8"))
    return data


def escaped(text: str) -> str:
    """Text as Datasette's templates write it into HTML."""
    return str(markupsafe.escape(text))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60  # a bound on start-up, not a measurement
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            if httpx.get(f"{base}/-/versions.json", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"the server did not answer within 60 s:\n{log.read_text(errors='replace')}")


@contextmanager
def _running(command: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen[bytes]]:
    """A server subprocess writing to `log`, stopped on the way out (killed if it does not stop)."""
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=subprocess.STDOUT, env=env)
        try:
            yield process
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def serve_command(layout: Layout, port: int) -> list[str]:
    """`belarus-releases serve` on 127.0.0.1:`port`."""
    return [sys.executable, "-m", "belarus_releases", "serve", "--root", str(layout.root),
            "--host", "127.0.0.1", "--port", str(port)]


def datasette_command(port: int) -> list[str]:
    """Plain `datasette build/current/belarus-releases.db -m metadata.yml` from this environment, run in the repository."""
    return [str(Path(sys.executable).parent / "datasette"), "build/current/belarus-releases.db", "-m", "metadata.yml",
            "--host", "127.0.0.1", "--port", str(port)]


@contextmanager
def running_command(command: list[str], cwd: Path, log: Path, port: int, env: dict[str, str]) -> Iterator[str]:
    """Any server command that listens on 127.0.0.1:`port`, run in `cwd` with `env`; yields its base URL once it answers."""
    base = f"http://127.0.0.1:{port}"
    with _running(command, cwd, log, env) as process:
        _wait_until_up(base, process, log)
        yield base


@contextmanager
def running_server(layout: Layout, log: Path) -> Iterator[str]:
    """`belarus-releases serve` on a free port of 127.0.0.1, as a subprocess; yields its base URL."""
    with running_servers(layout, {"serve": log}) as bases:
        yield bases["serve"]


@contextmanager
def running_servers(layout: Layout, logs: dict[str, Path]) -> Iterator[dict[str, str]]:
    """Servers started together, each on a free port: "serve" (`belarus-releases serve`) and/or "datasette"
    (plain `datasette`), as `logs` names them; yields each one's base URL once all of them answer."""
    ports = {name: free_port() for name in logs}
    commands = {"serve": lambda port: serve_command(layout, port), "datasette": datasette_command}
    with ExitStack() as stack:
        processes = {name: stack.enter_context(_running(commands[name](ports[name]), layout.root, log))
                     for name, log in logs.items()}
        bases = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        for name, process in processes.items():
            _wait_until_up(bases[name], process, logs[name])
        yield bases


@contextmanager
def running_datasette(layout: Layout, log: Path) -> Iterator[tuple[str, int]]:
    """Plain `datasette` on a free port of 127.0.0.1, as a subprocess; yields its base URL and process id."""
    port = free_port()
    with _running(datasette_command(port), layout.root, log) as process:
        base = f"http://127.0.0.1:{port}"
        _wait_until_up(base, process, log)
        yield base, process.pid


async def asgi_messages(app: Any, scope: dict[str, Any]) -> list[dict[str, Any]]:
    """Every message an ASGI app sends for one bodiless request, straight through the app (no HTTP client, which
    would normalise the path first)."""
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: MutableMapping[str, Any]) -> None:
        sent.append(dict(message))

    await app(scope, receive, send)
    return sent
