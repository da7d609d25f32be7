"""The site's search (site/search.py): both plans list the same rows in the same order, and the page shows them."""

from __future__ import annotations

import re
import sqlite3
from urllib.parse import quote

import pytest
from datasette.app import Datasette

from belarus_releases.layout import Layout
from belarus_releases.site import search
from served import escaped, get


def words(conn: sqlite3.Connection) -> list[str]:
    """Every word of the events' titles and of the quotes, the searches that find something."""
    texts = [row[0] for row in conn.execute("select title from events union all select text from quotes")]
    return sorted({word for text in texts for word in re.findall(r"\w{3,}", text)})


@pytest.mark.parametrize("limit", [2, search.LIMIT])
def test_both_plans_find_the_same_rows(site: Layout, monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    with sqlite3.connect(f"{site.database.resolve().as_uri()}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        searched = words(conn)
        monkeypatch.setattr(search, "MANY", -1)
        along = [search.find(conn, search.match_expression(word), limit) for word in searched]
        monkeypatch.setattr(search, "MANY", 10**9)
        sorted_matches = [search.find(conn, search.match_expression(word), limit) for word in searched]
    assert along == sorted_matches
    # with limit 2, many searches find more than that, so which two come first is compared too
    assert sum(len(found["quotes"]) >= 2 and len(found["events"]) >= 2 for found in along) > 10


def test_the_search_page_lists_the_events_found(ds: Datasette, site: Layout) -> None:
    with sqlite3.connect(site.database) as conn:
        title = conn.execute("select title from events where title like '%Minsk%' order by id").fetchone()[0]
    page = get(ds, "/-/search?q=" + quote("Minsk"))
    assert page.status_code == 200 and escaped(title) in page.text
