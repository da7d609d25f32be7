"""What the site's own pages show (site/pages.py), as data: the home page's shortened headline tables."""

from __future__ import annotations

from belarus_releases.site import pages
from belarus_releases.site.pages import HOME_CELL, HOME_ROWS, headline


def test_a_headline_keeps_the_last_rows_and_cuts_long_values_at_a_word() -> None:
    long = " ".join(f"2025-01-{n:02d}-event" for n in range(100))
    rows = [{"as_of": f"row {n}", "quotes": long if n == HOME_ROWS + 4 else "short", "count": n}
            for n in range(HOME_ROWS + 5)]
    shown = headline(rows)
    assert shown.total == HOME_ROWS + 5 and shown.cut and shown.shortened
    assert [row["as_of"] for row in shown.rows] == [f"row {n}" for n in range(5, HOME_ROWS + 5)]
    cut = shown.rows[-1]["quotes"]
    assert cut.endswith(" …") and len(cut) <= HOME_CELL + 2 and long.startswith(cut[:-2] + " ")
    assert [row["count"] for row in shown.rows] == list(range(5, HOME_ROWS + 5))
    assert rows[-1]["quotes"] == long, "the query's rows are not changed"


def test_a_short_headline_is_shown_whole() -> None:
    rows = [{"category": "political-prisoners", "releases": 3, "events": None}]
    assert headline(rows) == pages.Headline(rows, 1, cut=False)
    assert not headline(rows).shortened and not headline([]).shortened
