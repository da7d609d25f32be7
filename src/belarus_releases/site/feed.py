"""The Atom feed of events at /-/events.atom: one entry per event, newest first, linking to its event page.

Records carry no time of editing, so an entry's `published` and `updated` are the event's day (sort_date,
midnight UTC) and the feed's `updated` is the build time of the release (or the newest event's day).
Written with ElementTree, which escapes every text, so a title full of markup stays text.
"""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

from datasette.utils import tilde_encode
from datasette.utils.asgi import Response

from belarus_releases.site.pages import DATABASE, current_release

ATOM = "http://www.w3.org/2005/Atom"
LIMIT = 100


def _stamp(day: str) -> str:
    return f"{day}T00:00:00Z"


async def events_feed(datasette: Any, request: Any) -> Response:
    result = await datasette.get_database(DATABASE).execute(
        "select id, sort_date, date, title, summary from events order by sort_date desc, id desc limit :limit",
        {"limit": LIMIT})
    rows = [dict(row) for row in result.rows]
    metadata = datasette.metadata() or {}
    home = datasette.absolute_url(request, datasette.urls.instance())
    built = current_release(datasette).built
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text
        return element

    add(feed, "title", str(metadata.get("title") or DATABASE))
    add(feed, "id", datasette.absolute_url(request, request.path))
    add(feed, "link", href=datasette.absolute_url(request, request.path), rel="self")
    add(feed, "link", href=home, rel="alternate")
    updated = built.strftime("%Y-%m-%dT%H:%M:%SZ") if built else _stamp(rows[0]["sort_date"] if rows else "1970-01-01")
    add(feed, "updated", updated)
    add(add(feed, "author"), "name", "The belarus-releases contributors")
    for row in rows:
        link = datasette.absolute_url(request, datasette.urls.row(DATABASE, "events", tilde_encode(row["id"])))
        entry = add(feed, "entry")
        add(entry, "id", link)
        add(entry, "title", row["title"])
        add(entry, "link", href=link, rel="alternate")
        add(entry, "published", _stamp(row["sort_date"]))
        add(entry, "updated", _stamp(row["sort_date"]))
        add(entry, "summary", row["summary"])
    body = ET.tostring(feed, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="utf-8"?>\n' + body + "\n", status=200,
                    content_type="application/atom+xml; charset=utf-8")
