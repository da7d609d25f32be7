"""The site: a visitor's own mistake in an address, in our words, where Datasette 0.65 answers a 500.

Datasette reads a few parameters without checking them, so a typo in one is an internal error that shows Python's
words ("Expecting value: line 1 column 1 (char 0)"): `?_through=` that is not its JSON object, `?col__in=[…` or
`?col__notin=[…` that is not a JSON list of values, `?_timelimit=` that is not a whole number, and a row address
with fewer key values than the table's primary key has columns (which SQLite refuses as a missing binding). The
plugin's handle_exception hook asks `mistake` whether the request holds one of them; if it does, the visitor gets
400 (404 for the row address, which names no row) with what to write instead, on Datasette's own error page.
A request without such a mistake keeps Datasette's answer: the exception is then not the visitor's doing.

A CSV whose query runs out of time gets 400 too: Datasette answers the same query's page and JSON so ("SQL query
took too long"), but lets the CSV's interruption through as a 500.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from datasette.database import QueryInterrupted
from datasette.utils import tilde_decode, urlsafe_components
from datasette.utils.asgi import BadRequest, Base400, NotFound

# What Datasette raises on these mistakes: json.JSONDecodeError and int()'s error are ValueErrors; a `_through`
# object without its keys, a KeyError or TypeError; SQLite's missing or unbindable parameter, the last three.
EXPLAINED = (ValueError, KeyError, TypeError, sqlite3.ProgrammingError, sqlite3.InterfaceError, OverflowError)
_LIST_FILTERS = ("__in", "__notin")
_THROUGH_EXAMPLE = '{"table": "event_types", "column": "type", "value": "release"}'
_SQLITE_INTEGERS = range(-(2**63), 2**63)
TOO_LONG = ("the query took longer than the site's time limit; ask for less: a filter, fewer rows (_size) or "
            "columns (_col), or a simpler query")


async def mistake(datasette: Any, request: Any, exception: BaseException) -> Base400 | None:
    """The visitor's mistake that explains `exception`, as the error to answer with; None when there is none.

    Only what Datasette's own views read is looked at, where they read it: the filters on a table's page, the time
    limit (its first value) on a table's or a query's, the key on a row's."""
    route = request.url_vars
    if isinstance(exception, QueryInterrupted):  # a CSV's: the page and the JSON say so themselves
        return BadRequest(TOO_LONG) if _csv(request) and "database" in route and "pks" not in route else None
    if not isinstance(exception, EXPLAINED) or "database" not in route:
        return None
    if "pks" in route:
        return await _row_problem(datasette, route)
    limit = request.args.get("_timelimit")
    if limit and not _is_whole_number(limit):
        return BadRequest("_timelimit must be a whole number of milliseconds")
    if "table" in route:
        for name in request.args:
            for value in request.args.getlist(name):
                problem = _filter_problem(name, value)
                if problem:
                    return BadRequest(problem)
    return None


def _csv(request: Any) -> bool:
    return bool(request.url_vars.get("format") == "csv" or request.args.get("_format") == "csv")


def _filter_problem(name: str, value: str) -> str | None:
    if name == "_through" and not _is_through(value):
        return f"_through must be a JSON object naming a table, one of its columns and a value, such as {_THROUGH_EXAMPLE}"
    if name.endswith(_LIST_FILTERS) and value.startswith("[") and not _is_value_list(value):
        return (f"{name} takes values separated by commas (a,b) or, when a value holds a comma, a JSON list of texts "
                'and numbers (["a","b"])')
    return None


def _is_whole_number(value: str) -> bool:
    try:
        int(value)  # what Datasette reads it with
    except ValueError:
        return False
    return True


def _is_through(value: str) -> bool:
    found = _json(value)
    return (isinstance(found, dict) and isinstance(found.get("table"), str) and isinstance(found.get("column"), str)
            and _bindable(found.get("value")))


def _is_value_list(value: str) -> bool:
    found = _json(value)
    return isinstance(found, list) and all(_bindable(item) for item in found)


def _bindable(value: Any) -> bool:
    """A JSON value SQLite takes as a parameter: text, or a number it can hold."""
    return isinstance(value, str | float) or (isinstance(value, int) and value in _SQLITE_INTEGERS)


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except ValueError:
        return None


async def _row_problem(datasette: Any, url_vars: dict[str, str]) -> Base400 | None:
    """A row address (/database/table/key) with fewer key values than the table's primary key has columns."""
    table = tilde_decode(url_vars["table"])
    try:
        keys = await datasette.get_database(tilde_decode(url_vars["database"])).primary_keys(table)
    except Exception:  # no such database or table: Datasette says so itself
        return None
    given = len(urlsafe_components(url_vars["pks"]))
    if given >= max(1, len(keys)):
        return None
    return NotFound(f"a row of {table} is named by its {len(keys)} key values ({', '.join(keys)}), separated by "
                    f"commas: this address gives {given}")
