"""What the site's own pages show, read from the database and the release folder beside it.

The home page (templates/index.html) and the event page (templates/row-belarus-releases-events.html) get their
data from here through the plugin's `extra_template_vars` hook (the search page's from site/search.py).
Everything comes from the served database, metadata.yml or the release folder the database sits in; nothing
is written here. Each query is fixed SQL with parameters: no visitor text becomes SQL.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from datasette.utils import sqlite_timelimit
from markupsafe import Markup

from belarus_releases.export.downloads import CHART, DATAPACKAGE, PACKAGE_ZIP
from belarus_releases.tables import TABLES

DATABASE = "belarus-releases"
RELEASE_NAME = re.compile(r"(\d{6,})-(\d{8}T\d{6}Z)")
T = TypeVar("T")
LANGUAGES = (("name_en", "English", "en"), ("name_ru", "Russian", "ru"), ("name_uk", "Ukrainian", "uk"),
             ("name_be", "Belarusian", "be"))


@dataclass(frozen=True)
class Release:
    """The release the site serves: its folder, its number and build time (from the folder's name) if it has them."""

    folder: Path
    number: int | None
    built: dt.datetime | None


def release_folder(datasette: Any) -> Path:
    """The folder of the served database: a release folder, whose files are the downloads."""
    return Path(datasette.get_database(DATABASE).path).resolve().parent


def current_release(datasette: Any) -> Release:
    folder = release_folder(datasette)
    found = RELEASE_NAME.fullmatch(folder.name)
    if not found:
        return Release(folder, None, None)
    built = dt.datetime.strptime(found.group(2), "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    return Release(folder, int(found.group(1)), built)


def _json_list(value: Any) -> list[Any]:
    return list(json.loads(value)) if value else []


def downloads(folder: Path) -> dict[str, Any]:
    """The download links the home page lists: the package, then every table in each format that exists."""
    def present(name: str) -> bool:
        return (folder / name).is_file()

    tables = [{"name": table.name, "files": [f"{table.name}.{fmt}" for fmt in ("csv", "json", "parquet")
                                              if present(f"{table.name}.{fmt}")]} for table in TABLES]
    package = [name for name in (PACKAGE_ZIP, DATAPACKAGE, f"{DATABASE}.db") if present(name)]
    return {"package": package, "tables": tables}


HEADLINE_QUERIES = ("release_totals_by_category", "aggregate_statements")
# The headline tables show a query's last rows (aggregate_statements: the most recent) with long values cut: at
# 10,000 events they were 550 kB of the home page (every event id of a category, every quote); the query's own
# page, linked below each table, has every row in full.
HOME_ROWS = 20
HOME_CELL = 300


@dataclass(frozen=True)
class Headline:
    """A headline query as the home page shows it: its last HOME_ROWS rows, how many it has, whether a value is cut."""

    rows: list[dict[str, Any]]
    total: int
    cut: bool

    @property
    def shortened(self) -> bool:
        return self.cut or len(self.rows) < self.total


def _cut(value: Any) -> Any:
    if isinstance(value, str) and len(value) > HOME_CELL:
        return value[:HOME_CELL].rsplit(" ", 1)[0] + " …"
    return value


def headline(rows: list[dict[str, Any]]) -> Headline:
    shown = [{column: _cut(value) for column, value in row.items()} for row in rows[-HOME_ROWS:]]
    return Headline(shown, len(rows), shown != rows[-HOME_ROWS:])


# The home page lists the most recent events only: all 10,000 made it 2.9 MB and half a second of rendering, and
# past about 20,000 it outgrew the response cache. Every event stays a click away (the table sorted by date,
# paginated; the year facet; the Atom feed), and the page still says how many there are and over what period.
HOME_EVENTS = 50


HOME_QUERIES = {
    "recent": "select id, date, date_precision, sort_date, title, types, release_status, release_count, "
              "release_qualifier from events order by sort_date desc, id desc limit :limit",
    "total": "select count(*) as n, min(sort_date) as first, max(sort_date) as last from events",
}


def recent_events(found: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The HOME_EVENTS most recent events in date order, how many events there are, and the period they cover."""
    events = found["recent"][::-1]
    for event in events:
        event["types"] = _json_list(event["types"])
    total = found["total"][0]
    return {"br_events": events, "br_event_count": total["n"],
            "br_period": (total["first"], total["last"]) if total["n"] else None}


async def home_context(datasette: Any) -> dict[str, Any]:
    release = current_release(datasette)
    chart_file = release.folder / CHART
    metadata = datasette.metadata() or {}
    queries = (metadata.get("databases", {}).get(DATABASE, {}).get("queries") or {})
    # the headline: what the recorded releases add up to per category, and what the sources say in aggregate,
    # from the same canned queries the site lists (metadata.yml), so the page and the queries never disagree;
    # every query of the page in one trip to an SQL thread
    headlines = {f"br_{name}": str(queries[name]["sql"]) for name in HEADLINE_QUERIES if name in queries}
    found = await rows_of_each(datasette, {**HOME_QUERIES, **headlines}, {"limit": HOME_EVENTS})
    return {
        **{f"br_{name}": headline(found[f"br_{name}"]) if f"br_{name}" in found else None for name in HEADLINE_QUERIES},
        "br_release": release,
        "br_version": metadata.get("version"),
        **recent_events(found),
        # Our own file, written by export/chart.py from the data: leather escapes every text it writes.
        "br_chart": Markup(chart_file.read_text(encoding="utf-8")) if chart_file.is_file() else None,
        "br_downloads": downloads(release.folder),
        "br_queries": [{"name": name, "title": (query.get("title") if isinstance(query, dict) else None) or name}
                       for name, query in queries.items()],
    }


# What the event page shows, each a fixed query of one event (all by primary key or an index on event_id).
EVENT_QUERIES = {
    "event": "select * from events where id = :id",
    "officials": """
        select event_officials.role, event_officials.side, people.id as person_id,
               people.name_en, people.name_ru, people.name_uk, people.name_be
        from event_officials join people on people.id = event_officials.person_id
        where event_officials.event_id = :id order by event_officials.position""",
    "releases": "select * from releases where event_id = :id",
    "released": """
        select people.id, people.name_en from released_people join people on people.id = released_people.person_id
        where released_people.event_id = :id order by people.name_en""",
    "sanctions": "select * from sanctions_changes where event_id = :id order by position",
    "quotes": "select * from quotes where event_id = :id order by position",
    "sources": "select * from sources where file in (select source_file from quotes where event_id = :id)",
}


async def in_sql_thread(datasette: Any, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on a connection to the site's database in one of Datasette's SQL threads, under its time limit.

    Several fixed queries make one trip to the thread pool instead of one each: under load each trip waits
    its turn for a thread and for the event loop, which costs more than the indexed lookups themselves.
    """
    time_limit = int(datasette.setting("sql_time_limit_ms"))

    def run(conn: sqlite3.Connection) -> T:
        with sqlite_timelimit(conn, time_limit):
            return work(conn)

    result: T = await datasette.get_database(DATABASE).execute_fn(run)
    return result


def as_dicts(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [dict(row) for row in conn.execute(sql, params)]


async def rows_of_each(datasette: Any, queries: dict[str, str], params: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of each named query, all run in one SQL thread (in_sql_thread)."""
    return await in_sql_thread(datasette, lambda conn: {name: as_dicts(conn, sql, params)
                                                          for name, sql in queries.items()})


async def event_context(datasette: Any, event_id: str) -> dict[str, Any]:
    """Everything the event page shows about one event, or {} when there is no such event."""
    found = await rows_of_each(datasette, EVENT_QUERIES, {"id": event_id})
    if not found["event"]:
        return {}
    event = found["event"][0]
    event["types"] = _json_list(event["types"])
    officials = found["officials"]
    for official in officials:
        official["names"] = [(label, lang, official[column]) for column, label, lang in LANGUAGES if official[column]]
    releases = found["releases"]
    for row in releases:
        row["nationalities"], row["destinations"] = _json_list(row["nationalities"]), _json_list(row["destinations"])
    by_file = {source["file"]: {**source, "relays": _json_list(source["relays"]), "quotes": []}
               for source in found["sources"]}
    ordered: list[dict[str, Any]] = []
    for quote in found["quotes"]:
        source = by_file[quote["source_file"]]
        if not source["quotes"]:
            ordered.append(source)
        source["quotes"].append({**quote, "supports": _json_list(quote["supports"])})
    return {"br_event": event, "br_officials": officials, "br_release": releases[0] if releases else None,
            "br_released": found["released"], "br_sanctions": found["sanctions"], "br_sources": ordered}
