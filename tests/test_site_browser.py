"""The public site as a reader uses it, in real headless Chromium driven by Playwright (Debian's /usr/bin/chromium,
never a browser Playwright downloads): the home page and its chart, a facet, the search, an event page with its
quotes and sources, the Atom feed, and every download link, down to the unzipped package validating.

What each test expects is read from the served database (through Datasette's JSON API), never written in here.
Screenshots go to .test-artefacts/browser/ (or $BELARUS_RELEASES_ARTEFACTS).
"""

from __future__ import annotations

import csv
import io
import json
import os
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import httpx
import pytest
from frictionless import Package
from playwright.sync_api import Browser, Page

from belarus_releases.site.pages import HOME_EVENTS
from conftest import ROOT
from served import DATABASE, MARKUP, MARKUP_ID

pytestmark = pytest.mark.browser  # one worker runs them all: tests/scheduling.py

ARTEFACTS = Path(os.environ.get("BELARUS_RELEASES_ARTEFACTS", ROOT / ".test-artefacts" / "browser"))
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    opened = context.new_page()
    opened.set_default_timeout(15_000)
    problems: list[str] = []
    opened.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    opened.on("pageerror", lambda error: problems.append(str(error)))
    yield opened
    context.close()
    assert problems == [], f"console errors (CSP violations among them): {problems}"


def shot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"), full_page=True)


def api(base: str, path: str) -> Any:
    response = httpx.get(f"{base}/{DATABASE}/{path}", timeout=30)
    response.raise_for_status()
    return response.json()


def september_2025_release(base: str) -> dict[str, Any]:
    """The release of September 2025 the issue names, found in the data: released, single, dated 2025-09."""
    rows = api(base, "events.json?_shape=array&sort_date__startswith=2025-09&release_status=released&release_scope=single")
    assert len(rows) == 1, rows
    event: dict[str, Any] = rows[0]
    return event


def test_home_page_draws_the_chart_from_the_data(live_site: str, page: Page) -> None:
    page.goto(live_site + "/")
    releases = [row for row in api(live_site, "releases_over_time.json?_shape=array") if row["kind"] == "recorded release"]
    assert page.locator("svg.releases-chart circle").count() == len(releases) > 0
    assert page.locator("svg.releases-chart path").count() >= 1  # the line through the dots
    box = page.locator("svg.releases-chart").bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100
    label = page.locator("svg.releases-chart").get_attribute("aria-label") or ""
    assert f"{releases[-1]['sort_date']}: {releases[-1]['recorded_total_all']}" in label
    events = sorted(api(live_site, "events.json?_shape=array&_sort=sort_date&_size=max"),
                    key=lambda e: (e["sort_date"], e["id"]))
    assert page.locator("ol.br-events li a").all_inner_texts() == [event["title"] for event in events[-HOME_EVENTS:]]
    assert api(live_site, "../-/metadata.json")["version"] in page.locator(".br-version").inner_text()
    shot(page, "home")


def test_a_reader_finds_the_september_2025_release_and_its_quotes_and_sources(live_site: str, page: Page) -> None:
    event = september_2025_release(live_site)
    page.goto(live_site + "/")
    page.get_by_role("link", name=event["title"], exact=True).click()
    page.wait_for_url(f"**/{DATABASE}/events/{event['id']}")
    assert page.locator("h1").inner_text() == event["title"]
    quotes = api(live_site, f"quotes.json?_shape=array&event_id={event['id']}&_sort=position")
    shown = [" ".join(text.split()) for text in page.locator("figure.br-quote blockquote").all_inner_texts()]
    assert sorted(shown) == sorted(" ".join(quote["text"].split()) for quote in quotes)
    files = {quote["source_file"] for quote in quotes}
    assert page.locator("section.br-source").count() == len(files)
    officials = api(live_site, f"event_officials.json?_shape=array&event_id={event['id']}")
    assert page.locator("ul.br-officials li").count() == len(officials)
    shot(page, "event-september-2025")
    first = quotes[0]
    page.locator(f"a[href$='/-/sources/{first['source_file']}']").first.click()
    page.wait_for_url(f"**/-/sources/{first['source_file']}")
    assert " ".join(first["text"].split()) in " ".join(page.locator("body").inner_text().split())


def test_a_facet_click_filters_the_events(live_site: str, page: Page) -> None:
    page.goto(f"{live_site}/{DATABASE}/events?_facet=year")
    entry = page.locator(".facet-info[data-column=year] li").first
    item = entry.locator("a")
    year = item.inner_text().strip()
    count = int(entry.inner_text().strip().split()[-1].replace(",", ""))
    item.click()
    page.wait_for_url("**year=*")
    assert page.locator("table.rows-and-columns tbody tr").count() == count
    assert set(page.locator("table.rows-and-columns tbody td.col-year").all_inner_texts()) == {year}
    shot(page, "facet-year")


def test_the_search_box_finds_events_quotes_and_people(live_site: str, page: Page) -> None:
    event = september_2025_release(live_site)
    officials = api(live_site, f"event_officials.json?_shape=array&event_id={event['id']}&_sort=position")
    person = api(live_site, f"people/{officials[0]['person_id']}.json?_shape=array")[0]
    word = person["name_en"].split()[-1]  # a surname: in the people's names, and in this event's title or summary
    page.goto(live_site + "/")
    page.fill("#br-q", word)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/-/search?q=*")
    assert person["name_en"] in page.locator("ul.br-results-people").inner_text()
    expected = api(live_site, "events.json?_shape=array&_size=max&_search=" + word)
    assert page.locator("ul.br-results-events li").count() == len(expected)
    shot(page, "search")


def test_the_atom_feed_lists_every_event(live_site: str, page: Page) -> None:
    page.goto(live_site + "/")
    href = page.locator("link[rel=alternate][type='application/atom+xml']").get_attribute("href")
    response = page.request.get(live_site + str(href))
    assert response.status == 200 and response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.body())
    titles = [entry.findtext(f"{ATOM}title") for entry in feed.iter(f"{ATOM}entry")]
    events = api(live_site, "events.json?_shape=array&_size=max")
    assert sorted(titles) == sorted(event["title"] for event in events)
    assert MARKUP["title"] in titles  # markup in a title is text in the XML, not elements


def test_every_download_link_returns_its_file(live_site: str, page: Page) -> None:
    page.goto(live_site + "/")
    links = page.locator("ul.br-downloads a, table.br-table-downloads td:nth-child(2) a")
    hrefs = [str(links.nth(index).get_attribute("href")) for index in range(links.count())]
    assert len(hrefs) >= 3 + 3 * 11
    for href in hrefs:
        response = page.request.get(live_site + href)
        assert response.status == 200, href
        assert len(response.body()) > 0, href
        if href.endswith(".json"):
            json.loads(response.body())


def test_events_csv_and_the_package_zip_download_and_the_package_validates(live_site: str, page: Page,
                                                                            tmp_path: Path) -> None:
    page.goto(live_site + "/")
    with page.expect_download() as csv_download:
        page.locator("table.br-table-downloads a[href$='/events.csv']").click()
    rows = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text(encoding="utf-8"))))
    assert {row["id"] for row in rows} == {event["id"] for event in api(live_site, "events.json?_shape=array&_size=max")}
    assert MARKUP_ID in {row["id"] for row in rows}
    with page.expect_download() as zip_download:
        page.locator("ul.br-downloads a[href$='.zip']").click()
    assert zip_download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(zip_download.value.path()) as archive:
        archive.extractall(tmp_path / "package")
    report = Package(str(tmp_path / "package" / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "message"])
