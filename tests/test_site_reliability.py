"""The public site's reliability classes (README, "The public site"): no redirect leaves the site, one visitor
query cannot take the server's memory, no CSV cell runs as a formula, bad sort parameters and other malformed
addresses are the visitor's mistake. In process against the real build, and once against a real plain `datasette`
(the plugin's path).
"""

from __future__ import annotations

import ast
import asyncio
import csv
import io
import re
import socket
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import datasette
import httpx
import pytest
from datasette.app import Datasette
from datasette.database import QueryInterrupted
from datasette.utils.asgi import Request
from markupsafe import escape

from belarus_releases.layout import Layout
from belarus_releases.site import parameters, plugin, workarounds
from belarus_releases.site.formulas import inert
from belarus_releases.site.limits import LIMITS, MAX_LENGTH, RESULT_BYTES
from belarus_releases.site.redirects import leaves_site, refuse_off_site_redirects
from belarus_releases.site.serve import make_datasette
from served import DATABASE, asgi_messages, get, running_datasette

HOST = "site.test"


def sql_url(sql: str, extension: str = ".json") -> str:
    return f"/{DATABASE}{extension}?sql=" + quote(sql)


def tables(layout: Layout) -> list[str]:
    with closing(sqlite3.connect(f"file:{layout.database}?mode=ro", uri=True)) as conn:
        return [name for (name,) in conn.execute("select name from sqlite_master where type in ('table', 'view')")]


# No redirect leaves the site


OFF_SITE = ["//example.com", "/\\example.com", "\\\\example.com", "/\\/example.com", "\\/example.com", "///example.com",
            "/\t/example.com", "/\n/example.com", "\t//example.com", " //example.com", "\x00//example.com",
            "/%5Cexample.com", "/%2F/example.com", "%2F%2Fexample.com", "/%09/example.com",
            "https://example.com/", "HTTP://example.com", "http:\\\\example.com", "http:/\\example.com",
            "https:example.com", f"http://{HOST}@example.com/", f"http://{HOST}.example.com/", "javascript:alert(1)"]
ON_SITE = ["/", f"/{DATABASE}", f"/{DATABASE}/events?_sort_desc=id", "/~5Cexample~2Ecom/", "/%20/example.com",
           "events", "?_sort=id", f"http://{HOST}/{DATABASE}", f"https://{HOST.upper()}/"]


@pytest.mark.parametrize("location", OFF_SITE)
def test_a_location_a_browser_would_follow_elsewhere_leaves_the_site(location: str) -> None:
    assert leaves_site(location, HOST)


@pytest.mark.parametrize("location", ON_SITE)
def test_a_location_on_this_site_does_not(location: str) -> None:
    assert not leaves_site(location, HOST)


async def _call(app: Any, raw_path: bytes, headers: list[tuple[bytes, bytes]]) -> list[dict[str, Any]]:
    """One GET through an ASGI app with the raw path as uvicorn passes it (httpx would normalise it first)."""
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": unquote(raw_path.decode("ascii")), "raw_path": raw_path, "root_path": "", "query_string": b"",
             "headers": headers, "server": (HOST, 80), "client": ("127.0.0.1", 50000)}
    return await asgi_messages(app, scope)


@pytest.mark.parametrize("location", OFF_SITE + ON_SITE)
def test_the_middleware_turns_every_off_site_redirect_into_a_404(location: str) -> None:
    async def redirect(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 302, "headers": [(b"location", location.encode("latin-1"))]})
        await send({"type": "http.response.body", "body": b"moved"})

    start, body = asyncio.run(_call(refuse_off_site_redirects(redirect), b"/", [(b"host", HOST.encode())]))
    if location in OFF_SITE:
        assert (start["status"], start["headers"], body["body"]) == (404, [(b"content-type", b"text/plain; charset=utf-8")],
                                                                     b"Not found.\n")
    else:
        assert (start["status"], body["body"]) == (302, b"moved")


# What Datasette redirects (a trailing slash, a %-encoded path), written every way that reaches the same host.
REDIRECTING_PATHS = ["/\\example.com/", "//example.com/", "/\\\\/example.com/", "/\\/\\example.com/", "/%5Cexample.com/",
                     "/%5C%5Cexample.com/", "/%2F%2Fexample.com/", "/%09/example.com/", "/\\%09example.com/",
                     "/%5C/example.com/x/", "///example.com/"]


@pytest.fixture(scope="module")
def app(ds: Datasette) -> Any:
    """Datasette's ASGI app, wrapped by the plugin's middleware."""
    return ds.app()


def _get_raw(app: Any, path: str) -> tuple[int, dict[str, str]]:
    [start, *_] = asyncio.run(_call(app, path.encode("ascii"), [(b"host", b"localhost")]))
    return start["status"], {bytes(name).decode().lower(): bytes(value).decode("latin-1") for name, value in start["headers"]}


@pytest.mark.parametrize("path", REDIRECTING_PATHS)
def test_no_path_makes_datasette_redirect_off_site(app: Any, path: str) -> None:
    status, headers = _get_raw(app, path)
    assert not (300 <= status < 400 and leaves_site(headers.get("location", ""), "localhost")), headers
    assert status in (302, 404)
    assert headers["x-frame-options"] == "DENY"  # the security headers wrap the 404 too


def test_the_trailing_slash_redirect_still_works(app: Any) -> None:
    status, headers = _get_raw(app, f"/{DATABASE}/events/")
    assert (status, headers["location"]) == (302, f"/{DATABASE}/events")


# One visitor query cannot take the server's memory


TOO_LONG = {
    "randomblob": "select length(hex(randomblob(400000000)))",
    "zeroblob": "select hex(zeroblob(1000000000))",
    "hex-doubles": f"select hex(randomblob({MAX_LENGTH // 2 + 1}))",
    "replace": f"select replace(printf('%.*c', {MAX_LENGTH // 1000}, 'x'), 'x', printf('%.*c', 1001, 'y'))",
    "group_concat": f"with recursive c(x) as (select 1 union all select x + 1 from c limit 100) "
                    f"select group_concat(printf('%.*c', {MAX_LENGTH // 64}, 'x')) from c",
    "json": f"with recursive c(x) as (select 1 union all select x + 1 from c limit 100) "
            f"select json_group_array(printf('%.*c', {MAX_LENGTH // 64}, 'x')) from c",
}


@pytest.mark.parametrize("sql", TOO_LONG.values(), ids=TOO_LONG.keys())
def test_a_value_over_the_length_limit_fails_at_once_with_400(ds: Datasette, sql: str) -> None:
    started = time.monotonic()
    response = get(ds, sql_url(sql))
    assert (response.status_code, response.json()["error"]) == (400, "string or blob too big")
    assert time.monotonic() - started < 1.5


def test_visitor_sql_in_a_table_filter_is_limited_too(ds: Datasette) -> None:
    for extension in (".json", ".csv"):
        response = get(ds, f"/{DATABASE}/events{extension}?_where=" + quote("id = hex(randomblob(400000000))"))
        assert (response.status_code, "string or blob too big" in response.text) == (400, True)


def test_rows_that_add_up_to_more_than_the_budget_are_refused(ds: Datasette) -> None:
    size = MAX_LENGTH // 2
    rows = RESULT_BYTES // size + 10
    many = f"with recursive c(x) as (select 1 union all select x + 1 from c limit {rows}) select zeroblob({size}) from c"
    response = get(ds, sql_url(many))
    assert response.status_code == 400
    assert response.json()["error"].startswith(f"the query's results are over {RESULT_BYTES // 2**20} MB")


def test_every_connection_datasette_opens_has_the_limits(ds: Datasette) -> None:
    async def limits(name: str) -> dict[int, int]:
        return dict(await ds.get_database(name).execute_fn(lambda conn: {key: conn.getlimit(key) for key in LIMITS}))

    for name in ds.databases:
        assert asyncio.run(limits(name)) == LIMITS, name


def test_the_real_data_fits_the_limits_with_a_wide_margin(site: Layout) -> None:
    with closing(sqlite3.connect(f"file:{site.database}?mode=ro", uri=True)) as conn:
        for table in tables(site):
            names = [name for (_, name, *_) in conn.execute(f'pragma table_info("{table}")')]
            columns = [f'coalesce(length(cast("{name}" as blob)), 8)' for name in names]
            longest, page = conn.execute(f"select max(m), sum(s) from (select max({', '.join(columns)}, 0) as m, "
                                         f"{' + '.join(columns)} as s from \"{table}\" order by s desc limit 1000)").fetchone()
            assert (longest or 0) * 8 <= MAX_LENGTH, f"{table} has a value of {longest} bytes"
            assert (page or 0) * 8 <= RESULT_BYTES, f"a page of {table} is {page} bytes"


def _memory(pid: int) -> dict[str, int]:
    """The process's resident memory now (VmRSS) and at its peak (VmHWM), in MB (Linux)."""
    fields = dict(re.findall(r"^(\w+):\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text(encoding="ascii"), re.MULTILINE))
    return {name: int(fields[name]) // 1024 for name in ("VmRSS", "VmHWM")}


def _raw_get(base: str, raw_path: str) -> tuple[int, str | None]:
    """Status and Location of one GET whose path is sent byte for byte, as a browser's could be."""
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as connection:
        connection.sendall(f"GET {raw_path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode("latin-1"))
        head = b""
        while b"\r\n\r\n" not in head and (chunk := connection.recv(4096)):
            head += chunk
    status, *headers = head.decode("latin-1").split("\r\n\r\n")[0].split("\r\n")
    fields = dict(line.split(": ", 1) for line in headers)
    return int(status.split()[1]), {name.lower(): value for name, value in fields.items()}.get("location")


@pytest.mark.server
def test_plain_datasette_refuses_memory_hungry_sql_quickly_and_redirects_nowhere_else(site: Layout, tmp_path: Path) -> None:
    with running_datasette(site, tmp_path / "datasette.log") as (base, pid):
        before = _memory(pid)
        timed = []
        for _ in range(2):
            started = time.monotonic()
            response = httpx.get(base + sql_url(TOO_LONG["randomblob"]), timeout=30)
            timed.append((response.status_code, round(time.monotonic() - started, 2)))
        after = _memory(pid)
        redirects = {path: _raw_get(base, path) for path in ("/\\example.com/", f"/{DATABASE}/")}
    assert [status for status, _ in timed] == [400, 400]
    assert max(seconds for _, seconds in timed) < 1.5, timed
    assert after["VmHWM"] - before["VmRSS"] < 200, (before, after)
    assert redirects == {"/\\example.com/": (404, None), f"/{DATABASE}/": (302, f"/{DATABASE}")}


# No CSV cell runs as a formula


FORMULAS = {"=HYPERLINK(\"http://example.com\",\"x\")": "'=HYPERLINK(\"http://example.com\",\"x\")",
            "+1+1": "'+1+1", "-1+cmd": "'-1+cmd", "@SUM(1)": "'@SUM(1)", "\t=1": "'\t=1", "\r=1": "'\r=1",
            "=a\nb": "'=a\nb", "-": "'-"}
LEFT_ALONE = [-5, -1.5, 0, 7, "-5", "-1.5", "+3", "1e5", "-.5", "text", "a=b", " =x", "x\n=y", "", None, b"="]


@pytest.mark.parametrize("cell", FORMULAS)
def test_a_text_cell_a_spreadsheet_would_run_gets_an_apostrophe(cell: str) -> None:
    assert inert(cell) == FORMULAS[cell]


@pytest.mark.parametrize("cell", LEFT_ALONE)
def test_numbers_and_other_text_are_left_alone(cell: Any) -> None:
    assert inert(cell) == cell


CELLS_SQL = ("select '=HYPERLINK(\"http://example.com\",\"x\")' as \"=h\", -5 as n, -1.5 as f, '-5' as t, '@SUM(1)' as a, "
             "char(9) || '=1' as tab, '=a' || char(10) || 'b' as nl, 'x' || char(10) || '=y' as second_line")
CELLS_CSV = [["'=h", "n", "f", "t", "a", "tab", "nl", "second_line"],
             ["'=HYPERLINK(\"http://example.com\",\"x\")", "-5", "-1.5", "-5", "'@SUM(1)", "'\t=1", "'=a\nb", "x\n=y"]]


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("suffix", ["", "&_dl=1", "&_stream=on"])
def test_a_query_csv_has_no_formula_cells(ds: Datasette, suffix: str) -> None:
    response = get(ds, sql_url(CELLS_SQL, ".csv") + suffix)
    assert (response.status_code, _rows(response.text)) == (200, CELLS_CSV)


def test_a_table_csv_has_no_formula_cells(site: Layout) -> None:
    # The build refuses formula-like text in records, so the table is made here, in a database of its own.
    fresh = make_datasette(site)
    memory = fresh.add_memory_database("formulas")
    asyncio.run(memory.execute_write(f"create table if not exists cells as {CELLS_SQL}"))
    for path in ("/formulas/cells.csv", "/formulas/cells.csv?_stream=on", "/formulas/cells.csv?_dl=1", "/formulas/cells/1.csv"):
        response = get(fresh, path)
        rows = _rows(response.text)
        assert (response.status_code, rows[0][-8:], rows[1][-8:]) == (200, *CELLS_CSV), path


# Bad sort parameters are the visitor's mistake


SORTS = {"sort": "_sort=nosuchcolumn", "sort_desc": "_sort_desc=nosuchcolumn", "both": "_sort=id&_sort_desc=id"}


@pytest.mark.parametrize("sort", SORTS.values(), ids=SORTS.keys())
def test_a_bad_sort_is_a_400_on_every_table(ds: Datasette, site: Layout, sort: str) -> None:
    answers = {table: get(ds, f"/{DATABASE}/{quote(table)}.json?{sort}") for table in tables(site)}
    assert {table: response.status_code for table, response in answers.items()} == dict.fromkeys(answers, 400)
    assert all(response.json()["ok"] is False for response in answers.values())
    assert [get(ds, f"/{DATABASE}/events{extension}?{sort}").status_code for extension in ("", ".csv")] == [400, 400]


def test_only_bad_parameters_raise_datasettes_default_500() -> None:
    """as_bad_request turns DatasetteError's default status into 400; this pins where Datasette uses it."""
    raised = set()
    sources = {path: path.read_text(encoding="utf-8") for path in Path(datasette.__file__).parent.rglob("*.py")}
    for path, source in sources.items():
        for node in ast.walk(ast.parse(source)) if "raise DatasetteError(" in source else ():
            if (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) and isinstance(node.exc.func, ast.Name)
                    and node.exc.func.id == "DatasetteError" and not any(k.arg == "status" for k in node.exc.keywords)):
                raised.add((path.name, ast.unparse(node.exc.args[0])))
    assert raised == {
        ("filters.py", "'Invalid _through - could not find corresponding foreign key'"),
        ("table.py", "'Cannot use _sort and _sort_desc at the same time'"),
        ("table.py", "f'Cannot sort table by {sort}'"),
        ("table.py", "f'Cannot sort table by {sort_desc}'"),
        ("base.py", "str(e)"),  # twice, each after an `except sqlite3.OperationalError` that catches it first
    }


def test_other_errors_keep_their_status() -> None:
    error_class = workarounds._datasette_error()
    forbidden, server = error_class("no", status=403), RuntimeError("bug")
    workarounds.as_bad_request(forbidden)
    workarounds.as_bad_request(server)
    assert forbidden.status == 403 and not hasattr(server, "status")


# A mistake in an address Datasette reads without checking is the visitor's: said so, in our words, not as a 500


THROUGH = "_through must be a JSON object naming a table, one of its columns and a value, such as " \
          '{"table": "event_types", "column": "type", "value": "release"}'
MISTAKES = {
    "through not JSON": ("events", "_through=garbage", 400, THROUGH),
    "through without its keys": ("events", "_through=" + quote('{"a": 1}'), 400, THROUGH),
    "in, a broken list": ("events", "id__in=" + quote("[1"), 400, 'id__in takes values separated by commas (a,b) or, '
                          'when a value holds a comma, a JSON list of texts and numbers (["a","b"])'),
    "notin, a list of objects": ("events", "id__notin=" + quote("[{}]"), 400, "id__notin takes values separated by "
                                 'commas (a,b) or, when a value holds a comma, a JSON list of texts and numbers (["a","b"])'),
    "time limit": ("events", "_timelimit=abc", 400, "_timelimit must be a whole number of milliseconds"),
    "a row with half its key": ("quotes/abc", "", 404,
                                "a row of quotes is named by its 2 key values (event_id, position), separated by "
                                "commas: this address gives 1"),
}


@pytest.mark.parametrize(("path", "query", "status", "message"), MISTAKES.values(), ids=MISTAKES.keys())
def test_a_malformed_address_is_the_visitors_mistake_in_our_words(ds: Datasette, path: str, query: str, status: int,
                                                                   message: str) -> None:
    answer = get(ds, f"/{DATABASE}/{path}.json?{query}")
    assert (answer.status_code, answer.json()["error"]) == (status, message)
    page = get(ds, f"/{DATABASE}/{path}?{query}")
    assert page.status_code == status and escape(message) in page.text


WELL_FORMED = ["events?id__in=a,b", "events?id__in=" + quote('["a","b"]'), "events?_timelimit=", "events?_timelimit=900",
               "events?_through=" + quote('{"table": "event_types", "column": "type", "value": "release"}')]


@pytest.mark.parametrize("path", WELL_FORMED)
def test_the_same_parameters_well_formed_are_answered(ds: Datasette, path: str) -> None:
    assert get(ds, f"/{DATABASE}/{path}").status_code == 200


def _answer(ds: Datasette, path: str, exception: BaseException, **route: str) -> Any:
    """What the plugin's handle_exception hook answers for `exception` on a request to `path` routed as `route`."""
    return asyncio.run(plugin.handle_exception(ds, Request.fake(path, url_vars=route), exception)())


def test_an_error_the_address_does_not_explain_stays_datasettes(ds: Datasette) -> None:
    """A ValueError with nothing wrong in the address, or where Datasette does not read what is wrong, is a bug:
    Datasette's own answer (a 500), not a 400 that blames the visitor."""
    table = {"database": DATABASE, "table": "events"}
    assert _answer(ds, f"/{DATABASE}/events?_timelimit=x", ValueError("bug"), **table).status == 400
    assert _answer(ds, f"/{DATABASE}/events?id__in=a,b", ValueError("bug"), **table) is None
    assert _answer(ds, f"/{DATABASE}/events?_timelimit=9&_timelimit=x", ValueError("bug"), **table) is None  # 1st read
    assert _answer(ds, "/-/search?_timelimit=x&id__in=%5B", ValueError("bug")) is None  # a route that reads neither
    assert _answer(ds, f"/{DATABASE}/events?_timelimit=x", RuntimeError("bug"), **table) is None  # no mistake makes it
    interrupted = QueryInterrupted(sqlite3.OperationalError("interrupted"), "select 1", {})
    assert _answer(ds, "/-/events.atom", interrupted) is None  # the site's own query ran out of time: the site's fault
    assert _answer(ds, f"/{DATABASE}/events.csv", interrupted, **table, format="csv").status == 400


def test_a_number_sqlite_cannot_hold_is_a_mistake_too(ds: Datasette) -> None:
    answer = get(ds, f"/{DATABASE}/events.json?id__in=" + quote("[99999999999999999999]"))
    assert answer.status_code == 400 and answer.json()["error"].startswith("id__in takes values separated by commas")
    through = quote('{"table": "event_types", "column": "type", "value": 99999999999999999999}')
    answer = get(ds, f"/{DATABASE}/events.json?_through={through}")
    assert (answer.status_code, answer.json()["error"]) == (400, THROUGH)


def test_a_csv_whose_query_runs_out_of_time_is_a_400_as_its_page_is(ds: Datasette) -> None:
    """Datasette answers 400 for the page and the JSON, but let the CSV's interruption through as a 500."""
    statuses = [get(ds, f"/{DATABASE}/events{extension}?_timelimit=-1").status_code for extension in ("", ".json", ".csv")]
    assert statuses == [400, 400, 400]
    assert escape(parameters.TOO_LONG) in get(ds, f"/{DATABASE}/events.csv?_timelimit=-1").text
