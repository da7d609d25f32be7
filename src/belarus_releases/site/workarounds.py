"""Where the site reaches into Datasette 0.65's internals: two fixes for ways a few anonymous requests could stall
the site, formula-safe CSV (site/formulas.py), 400 for bad sort parameters, Datasette's own error page for the
plugin's answers to other malformed addresses (site/parameters.py), no per-cell plugin call when no
plugin renders cells, and imposing settings on a running instance (Datasette has no public API for a plugin to
do that).

Each one first checks that what it changes is still there, in the shape it expects, and raises DatasetteChanged
naming the Datasette version if not, so that an upgrade fails at start-up instead of silently serving without
the fix. The plugin's `startup` hook runs them for every Datasette process; `make_datasette` runs `apply` too,
so `belarus-releases serve` fails before it listens. Remove a fix when the Datasette or CPython release that
makes it unnecessary is the oldest one pyproject.toml allows.
"""

from __future__ import annotations

import csv
import importlib
import inspect
import sqlite3
import traceback
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any, NoReturn

from datasette.database import Database
from datasette.utils import await_me_maybe
from datasette.version import __version__ as DATASETTE_VERSION

from belarus_releases.site import cache
from belarus_releases.site.formulas import FORMULA_SAFE_CSV
from belarus_releases.site.limits import TooBig

# Set on our wrapper of Database.execute_fn, so that applying twice does not wrap it twice.
_APPLIED = "_belarus_releases_frees_failed_cursors"
# Datasette copies these settings into attributes when it is constructed, and its views read the attributes.
_COPIED_SETTINGS = {"max_returned_rows": "max_returned_rows", "sql_time_limit_ms": "sql_time_limit_ms",
                    "default_page_size": "page_size"}


class DatasetteChanged(RuntimeError):
    """Datasette no longer has something a workaround changes: review site/workarounds.py for this release."""


def _missing(what: str) -> NoReturn:
    raise DatasetteChanged(f"Datasette {DATASETTE_VERSION} has no {what}, which belarus-releases changes "
                           "(src/belarus_releases/site/workarounds.py); check whether this release still needs "
                           "the change, then update or remove it")


def apply() -> None:
    """Apply the process-wide fixes; idempotent. :raises DatasetteChanged: when a target is missing."""
    _quiet_client_errors()
    _free_failed_cursors_in_their_thread()
    _formula_safe_csv()
    _datasette_error()
    _render_cell_only_when_implemented()


def _quiet_client_errors() -> None:
    """No rich tracebacks for 4xx and 5xx responses.

    When `rich` is installed (frictionless pulls it in), Datasette prints every error response as a rich
    traceback with its locals: about 250 ms of event-loop time each, so a few bad URLs a second stall the site.
    Without it, 5xx errors still print a plain traceback; 4xx ones are left to the access log.
    """
    default_errors = _default_errors()
    if not hasattr(default_errors, "rich"):
        _missing("module-level `rich` in datasette.handle_exception")
    default_errors.rich = None


def _free_failed_cursors_in_their_thread() -> None:
    """Free the cursor of a query that failed in the SQL thread that ran it, not later in the event loop.

    A query that fails while running (`select json('x')`, a write refused by the read-only file) leaves its
    SQLite statement in use; the exception's traceback keeps the cursor alive until the event loop drops it,
    and resetting the statement then waits for that connection's mutex. If a slow query is running on the same
    connection, the whole event loop waits with it: alternating the two froze every page for up to the time
    limit (benchmarks/serving.py). Clearing the traceback's frames in the SQL thread frees the cursor there.

    Here too, a query that fails tells the response cache not to keep the page it was for (site/cache.py), and
    a value over the site's length limit (site/limits.py) is reported as TooBig, an OperationalError:
    SQLite raises DataError, which Datasette's table pages and CSV answer with 500 where they answer every
    other refused query (OperationalError) with 400.
    """
    execute_fn = getattr(Database, "execute_fn", None)
    if getattr(execute_fn, _APPLIED, False):
        return
    if not (inspect.iscoroutinefunction(execute_fn) and _parameters(execute_fn) == ["self", "fn"]):
        _missing("coroutine datasette.database.Database.execute_fn(self, fn)")
    original: Any = execute_fn

    async def execute_fn_freeing_cursors(self: Any, fn: Callable[[Any], Any]) -> Any:
        def run(conn: Any) -> Any:
            try:
                return fn(conn)
            except sqlite3.DataError as error:
                traceback.clear_frames(error.__traceback__)
                raise TooBig(*error.args) from error
            except BaseException as error:
                traceback.clear_frames(error.__traceback__)
                raise

        try:
            return await original(self, run)
        except BaseException:
            cache.query_failed()  # a page with a failed or timed-out query is not kept (site/cache.py)
            raise

    setattr(execute_fn_freeing_cursors, _APPLIED, True)
    Database.execute_fn = execute_fn_freeing_cursors


def _formula_safe_csv() -> None:
    """Every CSV Datasette serves written by a writer that makes formula cells inert (site/formulas.py).

    Datasette's one CSV writer is `csv.writer(...)` in DataView.as_csv, looked up in its module's globals
    each time, so that module gets a `csv` whose writer is safe. Checked: the module's `csv` is the csv
    module (or ours already), and as_csv's code still names `csv` and `writer`.
    """
    views: Any = importlib.import_module("datasette.views.base")
    current = getattr(views, "csv", None)
    if current is FORMULA_SAFE_CSV:
        return
    as_csv = getattr(getattr(views, "DataView", None), "as_csv", None)
    if current is not csv or as_csv is None or not {"csv", "writer"} <= _names(as_csv.__code__):
        _missing("DataView.as_csv writing with the module-level `csv.writer` in datasette.views.base")
    views.csv = FORMULA_SAFE_CSV


class _Hooks:
    """A plugin manager's hooks, but for render_cell, which answers [] at once while no plugin implements it."""

    def __init__(self, hooks: Any) -> None:
        self._hooks = hooks

    def __getattr__(self, name: str) -> Any:
        return getattr(self._hooks, name)

    def render_cell(self, **kwargs: Any) -> Any:
        caller = self._hooks.render_cell
        return caller(**kwargs) if caller.get_hookimpls() else []


class _SkipsEmptyRenderCell:
    """Datasette's plugin manager, as datasette.views.table sees it: the same, with _Hooks for hooks."""

    def __init__(self, manager: Any) -> None:
        self._manager = manager
        self.hook = _Hooks(manager.hook)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._manager, name)


def _render_cell_only_when_implemented() -> None:
    """No render_cell hook call per cell while no plugin implements render_cell.

    Table and row pages call the hook for every cell (display_columns_and_rows): 2,500 calls for a 100-row page
    of the events table, a tenth of its rendering, even with no implementation to call. The table view module
    gets the same plugin manager, whose render_cell returns [] (what pluggy returns then) unless a plugin
    implements it, checked at each call, so a plugin registered later still renders its cells.
    """
    table: Any = importlib.import_module("datasette.views.table")
    plugins: Any = importlib.import_module("datasette.plugins")
    current = getattr(table, "pm", None)
    if isinstance(current, _SkipsEmptyRenderCell):
        return
    function = getattr(table, "display_columns_and_rows", None)
    if current is not plugins.pm or function is None or not {"pm", "hook", "render_cell"} <= _names(function.__code__):
        _missing("display_columns_and_rows calling the module-level `pm.hook.render_cell` in datasette.views.table")
    table.pm = _SkipsEmptyRenderCell(current)


def _datasette_error() -> Any:
    """Datasette's DatasetteError, checked to take a `status` that is 500 unless given."""
    views: Any = importlib.import_module("datasette.views.base")
    error = getattr(views, "DatasetteError", None)
    status = inspect.signature(error).parameters.get("status") if inspect.isclass(error) else None
    if error is None or status is None or status.default != 500:
        _missing("datasette.views.base.DatasetteError(message, ..., status=500)")
    return error


def as_bad_request(exception: BaseException) -> None:
    """Make a DatasetteError raised with the default status, 500, a 400 (the exception is rendered after this).

    Datasette 0.65 raises DatasetteError without a status only for a request's bad parameters: `?_sort=`
    or `?_sort_desc=` naming no sortable column, the two at once, a `?_through=` that matches no foreign
    key (tests/test_site_reliability.py lists them from Datasette's source, so a new one is noticed). What
    is really the server's fault raises other exceptions and stays 500. The plugin's handle_exception hook
    calls this before Datasette's own handler (trylast), which then renders the error with this status.
    """
    if isinstance(exception, _datasette_error()) and exception.status == 500:
        exception.status = 400


async def error_page(datasette: Any, request: Any, error: BaseException) -> Any:
    """Datasette's own answer to `error`, as its default handle_exception hook renders it (a page, or JSON for a
    .json address), for an error the plugin raises in place of Datasette's."""
    return await await_me_maybe(_default_errors().handle_exception(datasette=datasette, request=request, exception=error))


def _default_errors() -> Any:
    # Looked up, not imported at the top: importing this module before datasette.app registers it half-built.
    default_errors: Any = importlib.import_module("datasette.handle_exception")
    if not callable(getattr(default_errors, "handle_exception", None)):
        _missing("datasette.handle_exception.handle_exception, the default handle_exception hook")
    return default_errors


def _names(code: CodeType) -> set[str]:
    """The global and attribute names a function's code uses, its nested functions' included."""
    nested = (const for const in code.co_consts if isinstance(const, CodeType))
    return set(code.co_names).union(*(_names(inner) for inner in nested))


def _parameters(function: Any) -> list[str]:
    return list(inspect.signature(function).parameters)


def impose_settings(datasette: Any, settings: Mapping[str, Any]) -> None:
    """Give a constructed Datasette these settings, overriding its command line, as if it had been made with them.

    Datasette keeps its settings in `_settings` and copies three of them into attributes at construction; both
    are set here. Settings read only at construction (num_sql_threads) cannot be imposed this way.
    :raises DatasetteChanged: when `_settings`, a setting's name or a copied attribute is missing.
    """
    current = getattr(datasette, "_settings", None)
    if not isinstance(current, dict):
        _missing("Datasette._settings dict")
    for name in settings:
        if name not in current:
            _missing(f"setting {name!r} in Datasette._settings")
    for attribute in _COPIED_SETTINGS.values():
        if not isinstance(getattr(datasette, attribute, None), int):
            _missing(f"int attribute Datasette.{attribute}")
    current.update(settings)
    for name, attribute in _COPIED_SETTINGS.items():
        setattr(datasette, attribute, current[name])
