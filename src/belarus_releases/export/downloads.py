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
from pathlib import Path

from belarus_releases.export.package_zip import PackageZip
from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES

PACKAGE_ZIP = "belarus-releases.zip"
DATAPACKAGE = "datapackage.json"
CHART = "releases-over-time.svg"
TABLE_FORMATS = ("csv", "json", "parquet")


def table_files(formats: tuple[str, ...] = TABLE_FORMATS) -> list[str]:
    """<table>.<format> for every table and format, in table order."""
    return [f"{table.name}.{fmt}" for table in TABLES for fmt in formats]


ZIPPED = [DATAPACKAGE, *table_files()]
"""The files of the zip, in its order."""
DOWNLOADS: tuple[str, ...] = (DATAPACKAGE, PACKAGE_ZIP, *table_files(), "belarus-releases.db", "overview.md", CHART)


def write_package_zip(folder: Path, target: Path, previous: Path | None = None) -> Path:
    """Zip datapackage.json and every table file in `folder` into `target` (export/package_zip.py: entries of files
    with the same bytes in the release `previous` copied from its zip)."""
    package = PackageZip(folder, previous, PACKAGE_ZIP)
    try:
        package.add(ZIPPED)
        return package.write(target, ZIPPED)
    finally:
        package.close()


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
