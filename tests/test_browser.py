"""In real headless Chromium: markup in records stays inert text, and Datasette's pages still work under our CSP.

A real server (`belarus-releases serve` on 127.0.0.1) serves a built copy of the dataset with a record whose
title, summary, notes and quote are HTML payloads. Chromium loads each page once and dumps the DOM after its
scripts have run; each payload, had it run, would have left a `data-xss` attribute or an XSS-… title.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser

from served import DATABASE, MARKUP, MARKUP_ID

pytestmark = pytest.mark.browser  # one worker runs them all: tests/scheduling.py

REFLECTED = '"><script>document.title="XSS-REFLECTED"</script>'
PAGES = {
    "home": "/",
    "database": f"/{DATABASE}",
    "events": f"/{DATABASE}/events?id={MARKUP_ID}",
    "row": f"/{DATABASE}/events/{MARKUP_ID}",
    "quotes": f"/{DATABASE}/quotes?event_id={MARKUP_ID}",
    "canned": f"/{DATABASE}/releases_over_time",
    "sql": f"/{DATABASE}?sql=" + quote(f"select '{REFLECTED}' as echoed, title, summary, notes from events "
                                       f"where id = '{MARKUP_ID}'"),
    "search": f"/{DATABASE}/events?_search=" + quote(REFLECTED),
}
# Which payloads each page must show, as text.
SHOWN = {"events": ("title", "summary", "notes"), "row": ("title", "summary", "notes"), "quotes": ("quote",),
         "sql": ("title", "summary", "notes")}


class Dom(HTMLParser):
    """What the dumped DOM contains: every element with its attributes, script bodies, visible text, title."""

    def __init__(self) -> None:
        super().__init__()  # convert_charrefs: text arrives unescaped, as a reader sees it
        self.elements: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self.title = ""
        self._open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        where = self._open[-1] if self._open else ""
        if where == "script":
            self.scripts.append(data)
        elif where == "title":
            self.title += data
        elif where != "style":
            self.text.append(data)


@dataclass
class Visit:
    dom: Dom
    console: list[str]


def visit(browser: Browser, url: str) -> Visit:
    """The page's DOM once it has loaded and its scripts have run, and every console error (CSP violations among
    them) or uncaught script error it produced."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: console.append(str(error)))
    try:
        page.goto(url, wait_until="load")
        dom = Dom()
        dom.feed(page.content())
    finally:
        context.close()
    return Visit(dom, console)


@pytest.fixture(scope="module")
def server(live_site: str) -> str:
    return live_site


@pytest.fixture(scope="module")
def visits(live_site: str, browser: Browser) -> dict[str, Visit]:
    """Every page visited once, for all the tests that read what a page did."""
    return {name: visit(browser, live_site + path) for name, path in PAGES.items()}


@pytest.mark.parametrize("page", PAGES)
def test_no_payload_runs(visits: dict[str, Visit], page: str) -> None:
    dom = visits[page].dom
    assert not re.fullmatch(r"XSS-[A-Z]+", dom.title.strip()), "a payload set the document title"
    assert [tag for tag, attributes in dom.elements if "data-xss" in attributes] == []
    assert [tag for tag, attributes in dom.elements if attributes.get("src") == "x" or "onerror" in attributes
            or "onload" in attributes] == []
    assert [script for script in dom.scripts if "XSS-" in script or "data-xss" in script] == []


@pytest.mark.parametrize("page", SHOWN)
def test_payloads_show_as_text(visits: dict[str, Visit], page: str) -> None:
    text = " ".join("".join(visits[page].dom.text).split())
    for field_name in SHOWN[page]:
        assert " ".join(MARKUP[field_name].split()) in text, f"{field_name} is not shown as text on {page}"


@pytest.mark.parametrize("page", PAGES)
def test_datasette_pages_run_without_csp_violations(visits: dict[str, Visit], page: str) -> None:
    assert visits[page].console == []


def test_own_scripts_run_under_the_csp(visits: dict[str, Visit]) -> None:
    def classes(page: str) -> str:
        return " ".join(str(attributes.get("class") or "") for _, attributes in visits[page].dom.elements)

    assert "dropdown-menu" in classes("events"), "table.js (a 'self' script) did not add the column menus"
    assert "CodeMirror" in classes("database"), "the SQL editor (external script + hashed inline script) did not start"


def test_screenshot_of_the_events_table(server: str, browser: Browser, tmp_path: Path) -> None:
    shot = tmp_path / "events.png"
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        page = context.new_page()
        page.goto(f"{server}/{DATABASE}/events", wait_until="networkidle")
        page.screenshot(path=str(shot))
    finally:
        context.close()
    header = shot.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", header[16:24]) == (1280, 900)


def test_the_checks_would_see_a_payload_that_ran(browser: Browser, tmp_path: Path) -> None:
    """A control: the same payloads in a plain page with no escaping and no CSP do run, and the checks see it."""
    page = tmp_path / "raw.html"
    page.write_text(f"<html><head><title>raw</title></head><body>{MARKUP['summary']}{MARKUP['title']}</body></html>",
                    encoding="utf-8")
    dom = visit(browser, page.as_uri()).dom
    assert dom.title == "XSS-TITLE"
    assert [tag for tag, attributes in dom.elements if "data-xss" in attributes] == ["body"]
