"""Stage 5, serve: the built database through Datasette, immutable, with tight limits and security headers.

`make_datasette` is what the tests and `belarus-releases serve` share; `serve` runs it under uvicorn the way
`datasette serve` does, and `fetch` answers one request without a server (like `datasette --get`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from datasette.app import Datasette
from datasette.plugins import pm

from belarus_releases.check.yaml_reader import load_file
from belarus_releases.layout import Layout
from belarus_releases.site import plugin as datasette_plugin
from belarus_releases.site import workarounds as datasette_workarounds

# Names and defaults: datasette/app.py SETTINGS and docs/settings.rst (0.65).
SETTINGS: dict[str, Any] = {
    # Suggesting facets runs a query per column on every table page: over 10x less throughput on this data.
    "suggest_facets": False,
    # Any one query (a runaway recursive CTE, say) gets one second; then SQLite's progress handler stops it.
    "sql_time_limit_ms": 1000,
    # Facets the metadata asks for are small GROUP BYs; 500 ms leaves room for them while two cores are busy.
    "facet_time_limit_ms": 500,
    "max_returned_rows": 1000,
    # SQLite drops the GIL while it runs, so two per core: a slow query or a CSV stream holds one thread for
    # up to the time limit while the others answer pages. With the default 3, three runaway queries at once
    # stalled every page for a second (scripts/load_test.py); with 4, and the plugin letting visitor SQL use
    # at most half of them at once, the row page stayed near 35 ms under any number of runaway queries.
    "num_sql_threads": 4,
    # The whole database is public and small, so offering the .db file itself is a feature.
    "allow_download": True,
    # Arbitrary SQL stays on: Datasette accepts only SELECT statements, on a database opened read-only.
    "default_allow_sql": True,
}


class ServeError(Exception):
    """The dataset cannot be served."""


class DatabaseMissing(ServeError):
    """The database has not been built yet."""


class UnsafeMetadata(ServeError):
    """metadata.yml would make Datasette render contributor text as HTML or link to a script."""


@dataclass(frozen=True)
class Page:
    """One response, as `fetch` returns it."""

    status: int
    text: str


def unsafe_metadata_keys(value: Any, path: str = "") -> list[str]:
    """Keys that Datasette renders unescaped (`*_html`) and links that are not http(s), as dotted paths."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            renders_html = str(key).endswith("_html")
            bad_link = str(key).endswith("_url") and item is not None and not str(item).startswith(("https://", "http://"))
            if renders_html or bad_link:
                found.append(where)
            found.extend(unsafe_metadata_keys(item, where))
    elif isinstance(value, list):
        for number, item in enumerate(value):
            found.extend(unsafe_metadata_keys(item, f"{path}[{number}]"))
    return found


def load_metadata(layout: Layout) -> dict[str, Any]:
    """metadata.yml, read as the build reads it (load.py), refused if it holds anything Datasette would render as HTML."""
    name = layout.relative(layout.metadata)
    if not layout.metadata.is_file():
        raise ServeError(f"{name} does not exist; restore it from the main branch")
    loaded = load_file(layout.root, name)
    if loaded.data is None:
        raise ServeError("\n".join([f"{name} cannot be read:", *(problem.to_text() for problem in loaded.problems)]))
    metadata: dict[str, Any] = loaded.data
    unsafe = unsafe_metadata_keys(metadata)
    if unsafe:
        raise UnsafeMetadata(f"{name} has {', '.join(unsafe)}: use plain description (never *_html) and http(s) links only")
    return metadata


ASSETS = "assets"
STATIC = Path(__file__).resolve().parent / "static"


def make_datasette(layout: Layout) -> Datasette:
    """Datasette for the built database: immutable, with metadata.yml, SETTINGS, our plugin and workarounds.

    :param layout: the dataset repository; its database must have been built.
    :raises DatabaseMissing: when build/current/belarus-releases.db does not exist.
    """
    if not layout.database.is_file():
        raise DatabaseMissing(f"{layout.relative(layout.database)} does not exist; run `belarus-releases build` first")
    metadata = load_metadata(layout)
    # The plugin manager is global; registering the module twice would raise.
    if not pm.is_registered(datasette_plugin):
        pm.register(datasette_plugin, name="belarus_releases.datasette_plugin")
    datasette_workarounds.apply()
    metadata.setdefault("extra_css_urls", []).append(f"/{ASSETS}/site.css")
    return Datasette(immutables=[str(layout.database)], metadata=metadata, settings=dict(SETTINGS),
                     static_mounts=[(ASSETS, str(STATIC))])


async def _get(datasette: Datasette, path: str) -> Page:
    response = await datasette.client.get(path, follow_redirects=True)
    return Page(response.status_code, response.text)


def fetch(layout: Layout, path: str) -> Page:
    """Answer one GET request in process, without starting a server."""
    return asyncio.run(_get(make_datasette(layout), path))


def serve(layout: Layout, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve the dataset over HTTP until interrupted, with the options `datasette serve` gives uvicorn."""
    app = make_datasette(layout).app()
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on", workers=1)
