"""export/chart.py: one dot per release while they fit the chart; past LIMIT, one per period, each a release's
own point (the last of its period), so the running total at the end of each period and the last one are exact."""

from __future__ import annotations

import datetime as dt
import re

from belarus_releases.export.chart import LIMIT, Point, chart_svg, drawn


def _releases(count: int, every: int = 1) -> list[Point]:
    start = dt.date(2015, 1, 1)
    return [(start + dt.timedelta(days=n * every), 3 * n + 1) for n in range(count)]


def _dots(svg: str) -> int:
    return len(re.findall(r"<circle\b", svg))


def test_every_release_is_a_dot_while_they_fit() -> None:
    points = _releases(LIMIT, every=3)
    assert drawn(points) == (None, points)
    svg = chart_svg(points)
    assert _dots(svg) == LIMIT
    assert f"{points[-1][0].isoformat()}: {points[-1][1]}" in svg


def test_past_the_limit_each_dot_is_the_last_release_of_its_period() -> None:
    points = [*_releases(10_000, every=1), (dt.date(2042, 6, 30), 99_999), (dt.date(2042, 6, 30), 100_000)]
    period, shown = drawn(points)
    assert period == "quarter" and len(shown) <= LIMIT  # 27.5 years of days: more than LIMIT months
    assert set(shown) <= set(points) and shown[-1] == points[-1] and shown == sorted(shown)
    quarter = {day: (day.year, (day.month - 1) // 3) for day, _ in points}
    last = {quarter[day]: (day, total) for day, total in points}
    assert shown == list(last.values())
    svg = chart_svg(points)
    assert _dots(svg) == len(shown) and len(svg) < 100_000  # 0.4 MB at 10,000 releases when every one was drawn
    assert "(the last release of each quarter)" in svg and "2042-06-30: 100000" in svg


def test_the_shortest_period_that_fits_is_taken() -> None:
    assert drawn(_releases(LIMIT + 1, every=1))[0] == "week"  # 241 days: 35 weeks
    assert drawn([(day, total) for day, total in _releases(2 * LIMIT, every=1) for _ in range(2)])[0] == "week"
    assert drawn(_releases(LIMIT + 1, every=7))[0] == "month"  # 241 weeks: 56 months, more than LIMIT weeks
