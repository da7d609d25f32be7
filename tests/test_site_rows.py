"""A table page's rows written in Python (site/rows.py, templates/_table.html) are the bytes Datasette's own
_table.html writes, for the kinds of cell the site's tables have, a search, a filter and a sort. And
skipping the per-cell render_cell call while no plugin implements it (site/workarounds.py) changes no page."""

from __future__ import annotations

import asyncio
import importlib
import re
from typing import Any

import jinja2
import pytest
from datasette import hookimpl
from datasette.app import Datasette
from datasette.plugins import pm

from belarus_releases.site.rows import table_rows
from served import DATABASE, MARKUP_ID

_TIMING = re.compile(r"Queries took [0-9.e-]+")
# events (the markup record among them), sources (URLs become links), event_types (a compound key: a Link column),
# quotes (long text), and a search, a filter with a sort, and one row carrying markup payloads
PAGES = [*(f"/{DATABASE}/{table}" for table in ("events", "sources", "event_types", "quotes")),
         f"/{DATABASE}/events?_search=Minsk", f"/{DATABASE}/events?types__arraycontains=release&_sort=title",
         f"/{DATABASE}/events?id={MARKUP_ID}"]


class DatasettesTable(jinja2.BaseLoader):
    """The site's template loader, but for _table.html, which comes from Datasette's own templates."""

    def __init__(self, loader: jinja2.BaseLoader) -> None:
        self.loader = loader

    def get_source(self, environment: jinja2.Environment, template: str) -> Any:
        return self.loader.get_source(environment, "default:_table.html" if template == "_table.html" else template)


def page(ds: Datasette, path: str) -> str:
    # a cookie keeps the request away from the response cache, so each page is rendered now
    response = asyncio.run(ds.client.get(path, headers={"cookie": "uncached=1"}))
    assert response.status_code == 200, path
    return _TIMING.sub("", response.text)


def test_table_pages_are_the_bytes_datasettes_template_writes(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    ours = {path: page(ds, path) for path in PAGES}
    assert all('<table class="rows-and-columns">' in text for text in ours.values())
    monkeypatch.setattr(ds.jinja_env, "loader", DatasettesTable(ds.jinja_env.loader))
    for path, text in ours.items():
        assert page(ds, path) == text, path


def test_cell_values_are_escaped_unless_they_are_markup() -> None:
    from markupsafe import Markup

    rows = [[{"column": "a b", "value_type": "str", "value": "<script>"},
             {"column": "id", "value_type": "pk", "value": Markup('<a href="/x">x</a>')},
             {"column": "n", "value_type": "int", "value": 3}]]
    html = str(table_rows(rows))
    assert "&lt;script&gt;" in html and '<a href="/x">x</a>' in html and ">3</td>" in html
    assert 'class="col-id type-pk"' in html and 'class="col-a b' not in html  # to_css_class made "a b" a class


class TitleMarker:
    @hookimpl
    def render_cell(self, value: Any, column: str) -> str | None:
        return f"MARKED {value}" if column == "title" else None


def test_render_cell_is_skipped_only_while_no_plugin_implements_it(ds: Datasette, monkeypatch: pytest.MonkeyPatch) -> None:
    path = f"/{DATABASE}/events"
    skipping = page(ds, path)
    pm.register(TitleMarker(), name="title-marker")
    try:
        assert "MARKED " in page(ds, path)
    finally:
        pm.unregister(name="title-marker")
    monkeypatch.setattr(importlib.import_module("datasette.views.table"), "pm", pm)  # every cell asks the plugins
    assert page(ds, path) == skipping
