"""A faster array facet for a JSON-array column that the database also holds one row per item (events.types and
event_types): the same results as Datasette's, counted from the plain table and its index.

Datasette 0.65's array facet runs `select distinct j.value, inner.* from json_each(inner.col) join inner`: every
column of every matching row goes into a temporary B-tree, about 500 ms for 10,000 events (more than the whole
rest of the page). Counting `event_types` rows whose event is among the matching rows takes a few ms for a
filtered page and about 40 ms for all 10,000 events. Both
count each row once per distinct item (event_types' primary key is (event_id, type)), and both order by count,
then value: tests/test_site_facets.py compares them on every facet the site offers.

The plugin's register_facet_classes hook puts this class in the place of Datasette's ArrayFacet, so the
metadata's `array: types`, `?_facet_array=types` and the facet links stay as Datasette documents them; any
other array column is faceted by Datasette's own query. Every facet class, Datasette's column and date facets
too, counts through site/kept.py, which keeps the counts once made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from datasette.database import QueryInterrupted
from datasette.facets import ArrayFacet, ColumnFacet, DateFacet
from datasette.utils import path_with_added_args, path_with_removed_args

from belarus_releases.site.kept import KeptCountsFacet

DATABASE = "belarus-releases"


@dataclass(frozen=True)
class Mirror:
    """`table.column` (a JSON array) held as rows: `key` (the parent's `parent_key`) and `value`, one row per item."""

    table: str
    key: str
    value: str
    parent_key: str


# tables.py: event_types has primary key (event_id, type) and event_id refers to events.id.
MIRRORS: dict[tuple[str, str], Mirror] = {("events", "types"): Mirror("event_types", "event_id", "type", "id")}


def mirrored_facet_sql(mirror: Mirror, inner_sql: str, limit: int) -> str:
    """Count items of the rows `inner_sql` selects, most frequent first, then by value, as Datasette orders them."""
    return (f'select "{mirror.value}" as value, count(*) as count from "{mirror.table}" '
            f'where "{mirror.key}" in (select "{mirror.parent_key}" from ({inner_sql})) '
            f'group by "{mirror.value}" order by count(*) desc, value limit {limit}')


class MirroredArrayFacet(KeptCountsFacet, ArrayFacet):  # type: ignore[misc]
    """Datasette's ArrayFacet, with the columns in MIRRORS counted from their mirror table."""

    _only: dict[str, Any] | None = None

    def get_configs(self) -> list[dict[str, Any]]:
        configs: list[dict[str, Any]] = super().get_configs()
        return [self._only] if self._only is not None else configs

    async def facet_results(self) -> tuple[list[dict[str, Any]], list[str]]:
        """Each configured facet in turn, in the metadata's and the request's order."""
        results: list[dict[str, Any]] = []
        timed_out: list[str] = []
        for source_and_config in self.get_configs():
            config = source_and_config["config"]
            column = config.get("column") or config["simple"]
            mirror = MIRRORS.get((self.table, column)) if self.database == DATABASE else None
            if mirror is None:
                self._only = source_and_config
                try:
                    found, late = await super().facet_results()
                finally:
                    self._only = None
            else:
                found, late = await self._mirrored(column, source_and_config["source"], mirror)
            results += found
            timed_out += late
        return results, timed_out

    async def _mirrored(self, column: str, source: str, mirror: Mirror) -> tuple[list[dict[str, Any]], list[str]]:
        size = self.get_facet_size()
        try:
            rows = await self.ds.execute(self.database, mirrored_facet_sql(mirror, self.sql, size + 1), self.params,
                                         truncate=False, custom_time_limit=self.ds.setting("facet_time_limit_ms"))
        except QueryInterrupted:
            return [], [column]
        pairs = self.get_querystring_pairs()
        return [{
            "name": column,
            "type": self.type,
            "results": [self._value(column, str(row["value"]), row["count"], pairs) for row in rows.rows[:size]],
            "hideable": source != "metadata",
            "toggle_url": self.ds.urls.path(path_with_removed_args(self.request, {"_facet_array": column})),
            "truncated": len(rows) > size,
        }], []

    def _value(self, column: str, value: str, count: int, pairs: list[tuple[str, str]]) -> dict[str, Any]:
        """One facet value with its link, which adds (or, when selected, removes) `column__arraycontains=value`."""
        argument = {f"{column}__arraycontains": value}
        selected = (f"{column}__arraycontains", value) in pairs
        toggle = (path_with_removed_args if selected else path_with_added_args)(self.request, argument)
        return {"value": value, "label": value, "count": count,
                "toggle_url": self.ds.absolute_url(self.request, toggle), "selected": selected}


class KeptColumnFacet(KeptCountsFacet, ColumnFacet):  # type: ignore[misc]
    """Datasette's ColumnFacet, counting through site/kept.py."""


class KeptDateFacet(KeptCountsFacet, DateFacet):  # type: ignore[misc]
    """Datasette's DateFacet, counting through site/kept.py."""


REPLACED: dict[type, type] = {ArrayFacet: MirroredArrayFacet, ColumnFacet: KeptColumnFacet, DateFacet: KeptDateFacet}


def replace_facets(classes: list[list[type]]) -> list[list[type]]:
    """The facet classes every plugin registered, with Datasette's own replaced by ours (REPLACED)."""
    return [[REPLACED.get(cls, cls) for cls in registered] for registered in classes]
