"""The site's file routes: the release's downloads at /-/downloads/<file> and source texts at /-/sources/<file>.

Only known names are served: a download must be one of export/downloads.py's DOWNLOADS, a source text a file
that the served sources table lists. Names are looked up, never joined onto a path taken from the request, so no
request reaches another file. Files come from the folder of the served database (its release folder), with
their content type; data files are sent as attachments, the source texts and datapackage.json inline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from datasette.utils.asgi import Response

from belarus_releases.export.downloads import DOWNLOADS
from belarus_releases.layout import is_plain_file_name
from belarus_releases.site.pages import DATABASE, release_folder

CONTENT_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".json": "application/json; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".zip": "application/zip",
    ".db": "application/vnd.sqlite3",
    ".md": "text/markdown; charset=utf-8",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}
INLINE = {".json", ".md", ".svg", ".txt"}
# Immutable within a release, but the stable URL moves to the next release: caches may keep it briefly.
CACHE = "public, max-age=300"


def _not_found(what: str) -> Response:
    return Response.text(f"No such {what}.\n", status=404)


def file_response(path: Path) -> Response:
    suffix = path.suffix
    headers = {"cache-control": CACHE}
    if suffix not in INLINE:
        headers["content-disposition"] = f'attachment; filename="{path.name}"'
    return Response(path.read_bytes(), status=200, headers=headers, content_type=CONTENT_TYPES[suffix])


async def download(datasette: Any, request: Any) -> Response:
    name = request.url_vars["name"]
    path = release_folder(datasette) / name if name in DOWNLOADS else None
    if path is None or not path.is_file():
        return _not_found("download")
    return file_response(path)


async def source_text(datasette: Any, request: Any) -> Response:
    name = request.url_vars["name"]
    if not is_plain_file_name(name) or not name.endswith(".txt"):
        return _not_found("source text")
    listed = await datasette.get_database(DATABASE).execute("select 1 from sources where file = :file", {"file": name})
    path = release_folder(datasette) / name
    if not listed.rows or not path.is_file():
        return _not_found("source text")
    return file_response(path)
