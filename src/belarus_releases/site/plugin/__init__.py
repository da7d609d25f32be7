"""The site as a Datasette plugin, registered through the package's `datasette` entry point (pyproject.toml).

Every Datasette process in an environment where belarus-releases is installed loads it: `belarus-releases
serve`, plain `datasette build/current/belarus-releases.db -m metadata.yml`, a `datasette publish` deployment. So each
one gets the same security headers, redirect guard, visitor-SQL cap and limits, settings, workarounds,
stylesheet, array facet (site/facets.py), table rows (site/rows.py) and response cache (site/cache.py). It is
a package, not a module, because Datasette serves a plugin's static/ (and templates/) folder only when the
plugin is one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable, Generator
from typing import Any

from datasette.utils import tilde_decode
from pluggy import HookimplMarker

from belarus_releases.check.metadata import unsafe_entries
from belarus_releases.site import downloads, facets, feed, pages, parameters, rows, search, workarounds
from belarus_releases.site.cache import cache_responses
from belarus_releases.site.limits import limit_connection
from belarus_releases.site.middleware import (
    ASGIApp,
    content_security_policy,
    inline_script_hashes,
    limit_visitor_sql,
    security_headers,
    visitor_sql_limit,
    with_headers,
)
from belarus_releases.site.redirects import refuse_off_site_redirects
from belarus_releases.site.settings import imposable_settings

# The same marker as `datasette.hookimpl`, taken from pluggy so that the hooks keep their types.
hookimpl = HookimplMarker("datasette")

# Datasette names an entry-point plugin after its distribution and serves its static/ folder under that name.
DISTRIBUTION = "belarus-releases"


class UnsafeMetadata(Exception):
    """The metadata Datasette was given would render contributor text as HTML or link to a script."""


@hookimpl
def startup(datasette: Any) -> None:
    """Before the first request: the workarounds, the site's settings, and a refusal of unsafe metadata.

    `datasette serve` runs this before it listens, so a failure stops it there with the error.
    """
    workarounds.apply()
    workarounds.impose_settings(datasette, imposable_settings())
    unsafe = [message for _, message in unsafe_entries(datasette.metadata())]
    if unsafe:
        raise UnsafeMetadata("the metadata cannot be served safely (`belarus-releases validate` locates each "
                             "entry in metadata.yml):\n" + "\n".join(unsafe))


@hookimpl
def prepare_connection(conn: sqlite3.Connection) -> None:
    """Every connection, to any database: bounds on what one query can make SQLite build (site/limits.py)."""
    limit_connection(conn)


@hookimpl
def handle_exception(datasette: Any, request: Any, exception: BaseException) -> Callable[[], Awaitable[Any]]:
    """A visitor's mistake is a 400, not Datasette's 500: a `?_sort=` or `?_sort_desc=` naming no column (Datasette's
    own error, given its status), and the mistakes site/parameters.py words (answered here, on Datasette's page)."""
    workarounds.as_bad_request(exception)

    async def answer() -> Any:
        error = await parameters.mistake(datasette, request, exception)
        if error is None:
            return None  # not the visitor's doing: Datasette's own answer stands
        # Datasette's handler, which runs too, then logs one line, not tracebacks (on Python 3.11 and later,
        # print_exc reads the exception's own traceback, and the chain it was raised from)
        exception.__traceback__ = exception.__context__ = exception.__cause__ = None
        return await workarounds.error_page(datasette, request, error)

    return answer


@hookimpl
def asgi_wrapper(datasette: Any) -> Callable[[ASGIApp], ASGIApp]:
    headers = security_headers(content_security_policy(inline_script_hashes(datasette.jinja_env)))
    sql_limit = visitor_sql_limit(int(datasette.setting("num_sql_threads")))

    def wrap(app: ASGIApp) -> ASGIApp:
        # 429s, refused redirects and cached responses get the headers too
        return with_headers(cache_responses(refuse_off_site_redirects(limit_visitor_sql(app, sql_limit)), datasette),
                            headers)

    return wrap


@hookimpl(wrapper=True)
def register_facet_classes() -> Generator[None, list[list[type]], list[list[type]]]:
    """Datasette's facets replaced by ours: the array facet counts events.types from event_types, and every facet
    keeps its counts (site/facets.py, site/kept.py)."""
    classes = yield
    return facets.replace_facets(classes)


@hookimpl
def prepare_jinja2_environment(env: Any) -> None:
    """The filter templates/_table.html writes a table page's rows with (site/rows.py)."""
    env.filters["br_table_rows"] = rows.table_rows


@hookimpl
def extra_css_urls(datasette: Any) -> list[str]:
    # From static/, served at /-/static-plugins/belarus-releases/: this site, so the CSP's style-src 'self' allows it.
    return [datasette.urls.static_plugins(DISTRIBUTION, "site.css")]


@hookimpl
def register_routes() -> list[tuple[str, Callable[..., Any]]]:
    return [
        (r"^/-/downloads/(?P<name>[^/]+)$", downloads.download),
        (r"^/-/sources/(?P<name>[^/]+)$", downloads.source_text),
        (r"^/-/events\.atom$", feed.events_feed),
        (r"^/-/search$", search_page),
    ]


async def search_page(datasette: Any, request: Any) -> Any:
    from datasette.utils.asgi import Response

    text = (request.args.get("q") or "")[: search.MAX_SEARCH]
    found = await search.search(datasette, text)
    html = await datasette.render_template("search.html", {"q": text, "found": found}, request=request)
    return Response.html(html)


@hookimpl
def extra_template_vars(view_name: str, database: str | None, table: str | None, request: Any, datasette: Any) -> Any:
    """Data for the site's own templates: the home page and the event page (a coroutine, awaited by Datasette)."""
    if view_name == "index":
        return pages.home_context(datasette)
    if view_name == "row" and database == pages.DATABASE and table == "events" and request is not None:
        return pages.event_context(datasette, tilde_decode(request.url_vars.get("pks", "")))
    return {}
