"""Stage 5, serve: the built database through Datasette, immutable, with the site's settings and plugin.

`make_datasette` is what the tests and `belarus-releases serve` share; `serve` runs it under uvicorn the way
`datasette serve` does, and `fetch` answers one request without a server (like `datasette --get`). The
headers, SQL cap, workarounds and stylesheet come from the plugin (site/plugin/), which Datasette loads
through the package's entry point, so plain `datasette` gets them too.
"""

from __future__ import annotations

import asyncio
import gc
from dataclasses import dataclass

import uvicorn
from datasette.app import Datasette
from datasette.plugins import pm

from belarus_releases.check.metadata import load_metadata
from belarus_releases.layout import Layout
from belarus_releases.site import plugin, workarounds
from belarus_releases.site.settings import SETTINGS


class ServeError(Exception):
    """The dataset cannot be served."""


class DatabaseMissing(ServeError):
    """The database has not been built yet."""


class MetadataInvalid(ServeError):
    """metadata.yml is unreadable, stale or unsafe to serve (`validate` and `build` refuse it too)."""


class PluginMissing(ServeError):
    """Datasette did not load the site's plugin: the package is installed without its entry point."""


@dataclass(frozen=True)
class Page:
    """One response, as `fetch` returns it."""

    status: int
    text: str


def make_datasette(layout: Layout) -> Datasette:
    """Datasette for the built database: immutable, with metadata.yml, SETTINGS and the site's plugin.

    :param layout: the dataset repository; its database must have been built.
    :raises DatabaseMissing: when build/current/belarus-releases.db does not exist.
    :raises MetadataInvalid: when metadata.yml has any problem `validate` reports for it.
    :raises PluginMissing: when the plugin is not registered, which would serve without the security headers.
    :raises workarounds.DatasetteChanged: when this Datasette lacks something a workaround changes.
    """
    if not layout.database.is_file():
        raise DatabaseMissing(f"{layout.relative(layout.database)} does not exist; run `belarus-releases build` first")
    metadata, problems = load_metadata(layout)
    if metadata is None:
        raise MetadataInvalid("\n".join([f"{layout.relative(layout.metadata)} cannot be served:",
                                         *(problem.to_text() for problem in problems)]))
    if not pm.is_registered(plugin):
        raise PluginMissing("Datasette did not load the belarus_releases plugin; reinstall the package "
                            "(make install) so that its `datasette` entry point is registered")
    # The plugin applies these at start-up too; applied here as well, `serve` fails before it listens.
    workarounds.apply()
    return Datasette(immutables=[str(layout.database)], metadata=metadata, settings=dict(SETTINGS))


async def _get(datasette: Datasette, path: str) -> Page:
    response = await datasette.client.get(path, follow_redirects=True)
    return Page(response.status_code, response.text)


def fetch(layout: Layout, path: str) -> Page:
    """Answer one GET request in process, without starting a server."""
    return asyncio.run(_get(make_datasette(layout), path))


def serve(layout: Layout, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve the dataset over HTTP until interrupted, with the options `datasette serve` gives uvicorn.

    What exists before the server starts (the modules, Datasette, the metadata: about 100,000 objects) is moved
    out of the garbage collector's sight: a full collection over it took 25 to 85 ms, a pause of the one event
    loop and of every request in flight, several times in a burst of uncached pages. It lives as long as the
    process anyway.
    """
    app = make_datasette(layout).app()
    gc.collect()
    gc.freeze()
    uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on", workers=1)
