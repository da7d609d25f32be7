"""The site's array facet (site/facets.py) gives what Datasette's own gives, and every column the site facets,
sorts or joins on is the first column of an index, so that those counts read an index and not the table.
"""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest
import yaml
from datasette.app import Datasette
from datasette.facets import ArrayFacet, ColumnFacet
from datasette.plugins import pm
from datasette.utils.asgi import Request

from belarus_releases.layout import Layout
from belarus_releases.site.facets import MIRRORS, KeptColumnFacet, MirroredArrayFacet
from belarus_releases.tables import BY_NAME, TABLES, Table
from served import DATABASE

CONTAINS = "select * from events where :p0 in (select value from json_each([events].[types]))"
# (query string, the SQL Datasette's table view gives the facets for it, its parameters)
REQUESTS = [
    ("", "select * from events", {}),
    ("year=2025", "select * from events where year = :p0", {"p0": 2025}),
    ("types__arraycontains=release", CONTAINS, {"p0": "release"}),
    ("types__arraycontains=zzz", CONTAINS, {"p0": "zzz"}),
    ("_facet_size=2&_facet_array=types", "select * from events", {}),
]


def facet_results(cls: type, ds: Datasette, query: str, sql: str, params: dict[str, Any]) -> Any:
    facet = cls(ds, Request.fake(f"/{DATABASE}/events?{query}"), DATABASE, sql=sql, table="events", params=params,
                metadata=ds.table_metadata(DATABASE, "events"))
    return asyncio.run(facet.facet_results())


@pytest.mark.parametrize(("query", "sql", "params"), REQUESTS, ids=[query or "all" for query, _, _ in REQUESTS])
def test_the_types_facet_equals_datasettes_array_facet(ds: Datasette, query: str, sql: str,
                                                       params: dict[str, Any]) -> None:
    ours = facet_results(MirroredArrayFacet, ds, query, sql, params)
    assert ours == facet_results(ArrayFacet, ds, query, sql, params)
    assert ours[0] and ours[1] == []  # results, and no facet timed out


@pytest.mark.parametrize("visitor_sql", [False, True], ids=["kept", "visitor-sql"])
@pytest.mark.parametrize(("ours", "datasettes"), [(MirroredArrayFacet, ArrayFacet), (KeptColumnFacet, ColumnFacet)],
                         ids=["array", "column"])
def test_kept_counts_are_the_counts_and_visitor_sql_is_counted_afresh(
        ds: Datasette, monkeypatch: pytest.MonkeyPatch, visitor_sql: bool, ours: type, datasettes: type) -> None:
    query, sql = ("_where=year>0", "select * from events where year>0") if visitor_sql else ("year=2025", REQUESTS[1][1])
    query += "&_facet=date_precision&_facet_array=types"
    params = {} if visitor_sql else REQUESTS[1][2]
    first = facet_results(ours, ds, query, sql, params)
    queries: list[str] = []
    execute = ds.execute

    async def counted(*args: Any, **kwargs: Any) -> Any:
        queries.append(args[1])
        return await execute(*args, **kwargs)

    monkeypatch.setattr(ds, "execute", counted)
    again = facet_results(ours, ds, query, sql, params)
    assert queries if visitor_sql else not queries, "visitor SQL is counted every time; the rest once"
    assert again == first == facet_results(datasettes, ds, query, sql, params)
    assert first[0] and first[1] == []


def test_the_types_facet_counts_what_sql_counts(ds: Datasette, site: Layout) -> None:
    shown = get_types_facet(ds)
    with sqlite3.connect(site.database) as conn:
        counted = conn.execute("select value, count(*) from events, json_each(events.types) "
                               "group by value order by count(*) desc, value").fetchall()
    assert [(value["value"], value["count"]) for value in shown["results"]] == counted


def get_types_facet(ds: Datasette) -> dict[str, Any]:
    from served import get

    facet: dict[str, Any] = get(ds, f"/{DATABASE}/events.json").json()["facet_results"]["types"]
    return facet


def test_the_plugin_replaces_datasettes_array_facet() -> None:
    classes = [cls for registered in pm.hook.register_facet_classes() for cls in registered]
    assert MirroredArrayFacet in classes and ArrayFacet not in classes


# Indexes


def leading(table: Table) -> set[str]:
    """Columns a lookup or GROUP BY can read from an index: the first of each index and of the primary key."""
    return {columns[0] for columns in table.indexes} | {table.primary_key[0]}


def test_mirror_tables_hold_each_item_once_per_row() -> None:
    for (parent, column), mirror in MIRRORS.items():
        table = BY_NAME[mirror.table]
        assert BY_NAME[parent].column(column).type == "array"
        assert set(table.primary_key) == {mirror.key, mirror.value}, "one row per distinct item of a row"
        assert any((fk.column, fk.other_table, fk.other_column) == (mirror.key, parent, mirror.parent_key)
                   for fk in table.foreign_keys)
        assert mirror.value in leading(table)


def test_every_facet_sort_and_foreign_key_column_leads_an_index(real: Layout) -> None:
    metadata = yaml.safe_load(real.metadata.read_text(encoding="utf-8"))
    tables = metadata["databases"][DATABASE]["tables"]
    for name, entry in tables.items():
        facets = [facet if isinstance(facet, str) else next(iter(facet.values())) for facet in entry.get("facets", [])]
        for column in facets + [entry[key] for key in ("sort", "sort_desc") if key in entry]:
            assert column in leading(BY_NAME[name]) or (name, column) in MIRRORS, f"{name}.{column}"
    for table in TABLES:
        for key in table.foreign_keys:
            assert key.column in leading(table), f"{table.name}.{key.column}"
