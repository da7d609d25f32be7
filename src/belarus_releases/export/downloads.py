"""Export, the downloads of a release: the whole package as one zip, and the source texts the quotes come from.

belarus-releases.zip holds datapackage.json (its paths are the bare file names, so they resolve inside the
unzipped folder), every table as CSV and JSON, and the Parquet files: unzip it and `frictionless validate
datapackage.json` reports it valid. Its entries carry a fixed time stamp and are written in a fixed order,
so the same data always gives the same bytes.

The source documents that the sources table lists are copied into the release under their own names (each is
a plain file name, checked by the validation), so that a release is self-contained: the site serves them at
/-/sources/<file> and a deployment made from the release has them too.

`DOWNLOADS` names every file of a release that the site offers for download; nothing else is served.
"""

from __future__ import annotations

import os
import shutil
import zipfile
from pathlib import Path

from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES

PACKAGE_ZIP = "belarus-releases.zip"
DATAPACKAGE = "datapackage.json"
CHART = "releases-over-time.svg"
TABLE_FORMATS = ("csv", "json", "parquet")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold: nothing depends on when it was built
COPY_CHUNK = 1 << 20
ZIP_LEVEL = 3  # deflate level: half the time of the default (6) for a zip about 5 % larger


def table_files(formats: tuple[str, ...] = TABLE_FORMATS) -> list[str]:
    """<table>.<format> for every table and format, in table order."""
    return [f"{table.name}.{fmt}" for table in TABLES for fmt in formats]


DOWNLOADS: tuple[str, ...] = (DATAPACKAGE, PACKAGE_ZIP, *table_files(), "belarus-releases.db", "overview.md", CHART)


def write_package_zip(folder: Path, target: Path) -> Path:
    """Zip datapackage.json and every table file in `folder` into `target`."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in (DATAPACKAGE, *table_files()):
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.file_size = (folder / name).stat().st_size  # as writestr sets it: decides Zip64 the same way
            entry._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]  # how writestr passes its level to open
            with (folder / name).open("rb") as source, archive.open(entry, "w") as copy:
                shutil.copyfileobj(source, copy, COPY_CHUNK)  # never a whole table in memory
    return target


def copy_source_texts(layout: Layout, files: list[str], folder: Path, same: dict[str, Path] | None = None) -> None:
    """Copy each listed source document from sources/ into `folder`: linked from `same`, where a file with the
    same bytes is known (the previous release's copy)."""
    same = same or {}
    for name in files:
        source = layout.source_file(name)
        if source is None:  # the validation refuses a record citing a missing file, so this is a bug
            raise FileNotFoundError(f"sources/{name} is listed in registry/sources.yml but is not a plain file")
        if name in same:
            link_or_copy(same[name], folder / name)
        else:
            shutil.copyfile(source, folder / name)


def link_or_copy(source: Path, target: Path) -> None:
    """The same file in the new release: a hard link (releases are never written to), a copy where links fail."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)
