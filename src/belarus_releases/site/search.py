"""The site's search page (/-/search): events, quotes and people whose searchable text holds every word searched
for, events and quotes oldest first, at most LIMIT of each. The plugin's /-/search route renders search.html with it.

Two plans give the same rows, because both sort by a key that is unique (sort_date, then the primary key):
- from the matches: look up every matching row, then sort them; cheap when few rows match, but a word in
  most records (Лукашенко is in 11,000 of 40,000 quotes at 10,000 events) made it 60-90 ms;
- along the order: read rows in sort order through the (sort_date, id) index, keeping those that match, until
  LIMIT are found; a few ms when many match, at most one pass over the index when none do.
The full-text index counts the matches first (about 1 ms for 10,000) and the cheaper plan runs.
tests/test_site_search.py checks that both plans return the same rows.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

from belarus_releases.site.pages import as_dicts, in_sql_thread

MAX_SEARCH = 200  # characters of a search; more is cut off
LIMIT = 100
# Above this many matches, reading in order finds LIMIT of them sooner than sorting them all (measured at 10,000
# events: 500 matching quotes sort in about 3 ms).
MANY = 500


@dataclass(frozen=True)
class Plans:
    """How to count one table's matches, and the two ways to list them."""

    count: str
    from_matches: str
    along_order: str | None = None


PLANS = {
    "events": Plans(
        "select count(*) from events_fts where events_fts match :q",
        """select events.id, events.date, events.sort_date, events.title from events_fts
            join events on events.rowid = events_fts.rowid where events_fts match :q
            order by events.sort_date, events.id limit :limit""",
        # `+rowid` keeps SQLite from starting at the matches: it walks events in order instead.
        """select events.id, events.date, events.sort_date, events.title from events
            where +events.rowid in (select rowid from events_fts where events_fts match :q)
            order by events.sort_date, events.id limit :limit"""),
    "quotes": Plans(
        "select count(*) from quotes_fts where quotes_fts match :q",
        """select quotes.event_id, quotes.position, quotes.text, quotes.source_file, events.title as event_title
            from quotes_fts join quotes on quotes.rowid = quotes_fts.rowid join events on events.id = quotes.event_id
            where quotes_fts match :q order by events.sort_date, quotes.event_id, quotes.position limit :limit""",
        """select quotes.event_id, quotes.position, quotes.text, quotes.source_file, events.title as event_title
            from events cross join quotes on quotes.event_id = events.id
            where +quotes.rowid in (select rowid from quotes_fts where quotes_fts match :q)
            order by events.sort_date, quotes.event_id, quotes.position limit :limit"""),
    "people": Plans(
        "select count(*) from person_names_fts where person_names_fts match :q",
        """select distinct people.id, people.name_en from person_names_fts
            join person_names on person_names.rowid = person_names_fts.rowid
            join people on people.id = person_names.person_id
            where person_names_fts match :q order by people.name_en limit :limit"""),
}


def match_expression(text: str) -> str:
    """An FTS5 query that finds rows holding every word of `text`, each word taken literally (as a quoted phrase)."""
    words = text[:MAX_SEARCH].split()
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def plan_sql(plans: Plans, matches: int) -> str:
    """The cheaper way to list `matches` matching rows."""
    return plans.along_order if plans.along_order is not None and matches > MANY else plans.from_matches


def find(conn: sqlite3.Connection, expression: str, limit: int = LIMIT) -> dict[str, list[dict[str, Any]]]:
    """The first `limit` rows of each table that match the FTS5 `expression`."""
    found = {}
    for name, plans in PLANS.items():
        matches = conn.execute(plans.count, {"q": expression}).fetchone()[0]
        found[name] = as_dicts(conn, plan_sql(plans, matches), {"q": expression, "limit": limit}) if matches else []
    return found


async def search(datasette: Any, text: str) -> dict[str, list[dict[str, Any]]]:
    """Events, quotes and people whose searchable text holds every word of `text`."""
    expression = match_expression(text)
    if not expression:
        return {name: [] for name in PLANS}
    return await in_sql_thread(datasette, lambda conn: find(conn, expression))
