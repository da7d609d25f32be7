"""Export, the releases chart: releases-over-time.svg in each release, drawn by leather from the built database.

The points are the rows of the site's `releases_over_time` canned query (metadata.yml), the same rows the README's
overview table shows: one dot per release at its sort_date, at the running total of people released (at least),
joined by a line. The home page shows the file inline, so the chart needs no script and passes the site's CSP.

With more than LIMIT releases, the dots would be closer than the chart's pixels and each would still be bytes of
the home page (0.4 MB at 10,000): then one dot is drawn per day, week, month, quarter or year (the shortest period
that gives at most LIMIT dots), at the last release of the period, at its running total. Every dot is still a
release's own point; the line joins them, so the total at the end of each period and the last total are exact.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import leather

from belarus_releases.export.overview import QueryResult, canned_query, run_query

WIDTH, HEIGHT = 720, 320
LIMIT = 240  # dots at most: 3 pixels apart across the chart's width
Point = tuple[dt.date, int]
PERIODS: tuple[tuple[str, Callable[[dt.date], dt.date]], ...] = (
    ("day", lambda day: day),
    ("week", lambda day: day - dt.timedelta(days=day.weekday())),
    ("month", lambda day: day.replace(day=1)),
    ("quarter", lambda day: day.replace(month=(day.month - 1) // 3 * 3 + 1, day=1)),
    ("year", lambda day: day.replace(month=1, day=1)),
)
RECORDED = "recorded release"  # the releases_over_time rows that are added up
TITLE = "People released in recorded releases, running total (at least, all categories)"


def release_points(database: Path, metadata: dict[str, Any], result: QueryResult | None = None) -> list[tuple[dt.date, int]]:
    """(sort_date, recorded_total_all) for every recorded release in the releases_over_time query (`result` when it has
    already been run); the rows the query shows beside them (aggregate statements, counts of prisoners held) are
    not added, so not drawn."""
    names, rows = result or run_query(database, canned_query(metadata))
    records = [dict(zip(names, row, strict=True)) for row in rows]
    return [(dt.date.fromisoformat(row["sort_date"]), int(row["recorded_total_all"])) for row in records
            if row["kind"] == RECORDED]


def chart_svg(points: list[Point]) -> str:
    """The chart of at least one point as SVG text: scalable (viewBox), labelled for screen readers."""
    period, points = drawn(points)
    chart = leather.Chart(TITLE)
    first, last = points[0][0], points[-1][0]
    chart.add_x_scale(first - dt.timedelta(days=15), last + dt.timedelta(days=15))
    chart.add_y_scale(0, max(total for _, total in points))
    chart.add_line(points, name="Running total")
    chart.add_dots(points, name="A release" if period is None else f"The last release of a {period}")
    svg: str = chart.to_svg(width=WIDTH, height=HEIGHT)
    each = "" if period is None else f" (the last release of each {period})"
    label = f"{TITLE}{each}: " + "; ".join(f"{day.isoformat()}: {total}" for day, total in points)
    opening = f'<svg width="{WIDTH}" height="{HEIGHT}"'
    if not svg.startswith(opening):
        raise ValueError("leather's SVG no longer starts with its size; update export/chart.py")
    accessible = f'<svg viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{_attribute(label)}" class="releases-chart"'
    return accessible + svg[len(opening):] + "\n"


def drawn(points: list[Point]) -> tuple[str | None, list[Point]]:
    """The points to draw, and the period each stands for (None: every release is drawn)."""
    if len(points) <= LIMIT:
        return None, points
    for period, start in PERIODS:
        last_of_period = {start(day): (day, total) for day, total in points}  # a later point replaces an earlier
        if len(last_of_period) <= LIMIT or period == PERIODS[-1][0]:
            return period, list(last_of_period.values())
    raise AssertionError("unreachable: the last period is always returned")


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def write_chart(database: Path, metadata: dict[str, Any], target: Path, result: QueryResult | None = None) -> Path | None:
    """Write the chart to `target`; with no release to draw, write nothing and return None."""
    points = release_points(database, metadata, result)
    if not points:
        return None
    target.write_text(chart_svg(points), encoding="utf-8", newline="\n")
    return target
