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

import copy
import os
import shutil
import struct
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from belarus_releases.export.incremental import Doubt
from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES

PACKAGE_ZIP = "belarus-releases.zip"
DATAPACKAGE = "datapackage.json"
CHART = "releases-over-time.svg"
TABLE_FORMATS = ("csv", "json", "parquet")
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold: nothing depends on when it was built
COPY_CHUNK = 1 << 20
LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip entry's local header (zipfile.structFileHeader)
SMALL = 1 << 20  # a file not linked from the previous release is compared byte by byte up to this size
ZIP_LEVEL = 3  # deflate level: half the time of the default (6) for a zip about 5 % larger


def table_files(formats: tuple[str, ...] = TABLE_FORMATS) -> list[str]:
    """<table>.<format> for every table and format, in table order."""
    return [f"{table.name}.{fmt}" for table in TABLES for fmt in formats]


DOWNLOADS: tuple[str, ...] = (DATAPACKAGE, PACKAGE_ZIP, *table_files(), "belarus-releases.db", "overview.md", CHART)


def write_package_zip(folder: Path, target: Path, previous: Path | None = None) -> Path:
    """Zip datapackage.json and every table file in `folder` into `target`. A file with the same bytes in the
    release `previous` has its entry copied from that release's zip as it is: compressed once, not again."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive, _entries(previous) as old:
        for name in (DATAPACKAGE, *table_files()):
            if old is not None and name in old.NameToInfo and previous and _same_bytes(previous / name, folder / name):
                _copy_entry(old, old.NameToInfo[name], archive)
                continue
            entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            entry.compress_type = zipfile.ZIP_DEFLATED
            entry.external_attr = 0o644 << 16
            entry.file_size = (folder / name).stat().st_size  # as writestr sets it: decides Zip64 the same way
            entry._compresslevel = ZIP_LEVEL  # type: ignore[attr-defined]  # how writestr passes its level to open
            with (folder / name).open("rb") as source, archive.open(entry, "w") as copy:
                shutil.copyfileobj(source, copy, COPY_CHUNK)  # never a whole table in memory
    return target


@contextmanager
def _entries(previous: Path | None) -> Iterator[zipfile.ZipFile | None]:
    """The previous release's zip, open for reading (None when there is none, or it cannot be read)."""
    try:
        old = zipfile.ZipFile(previous / PACKAGE_ZIP) if previous else None
    except (OSError, zipfile.BadZipFile):
        old = None
    try:
        yield old
    finally:
        if old is not None:
            old.close()


def _same_bytes(one: Path, other: Path) -> bool:
    """Whether two files have the same bytes: one file linked twice, or a small file read and compared."""
    try:
        if os.path.samefile(one, other):
            return True
        return one.stat().st_size == other.stat().st_size <= SMALL and one.read_bytes() == other.read_bytes()
    except OSError:
        return False


def _copy_entry(old: zipfile.ZipFile, entry: zipfile.ZipInfo, archive: zipfile.ZipFile) -> None:
    """Append `entry` of `old` to `archive` as its bytes are (local header, compressed data), as zipfile itself
    records an entry it has written: the same bytes as compressing the same file again with the same zlib."""
    assert old.fp is not None and archive.fp is not None
    old.fp.seek(entry.header_offset)
    header = old.fp.read(LOCAL_HEADER.size)
    fields = LOCAL_HEADER.unpack(header)
    if fields[0] != b"PK\x03\x04" or entry.flag_bits & 0x08:  # no header, or a data descriptor after the data
        raise Doubt(f"{entry.filename}: the previous zip's entry is not as this build writes them")
    size = fields[10] + fields[11] + entry.compress_size  # the name's and the extra field's lengths, then the data
    copied = copy.copy(entry)
    copied.header_offset = archive.fp.tell()
    archive.fp.write(header)
    for start in range(0, size, COPY_CHUNK):
        archive.fp.write(old.fp.read(min(COPY_CHUNK, size - start)))
    archive.filelist.append(copied)
    archive.NameToInfo[copied.filename] = copied
    archive.start_dir = archive.fp.tell()  # where the central directory will go, as zipfile sets it


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
