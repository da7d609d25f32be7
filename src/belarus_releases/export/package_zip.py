"""Export, belarus-releases.zip made while the build does other work: each member compressed in a thread.

zlib lets go of Python's lock while it compresses, so the members are compressed on another core while the build
checks the package, each as soon as its file is final (the CSV and JSON files first, the Parquet files once the
database process has written them); then the entries are written in their fixed order. Each entry's bytes are
the ones zipfile writes for it (its local header, then the data of one compressor fed the file in the same 1 MiB
blocks; tests/test_downloads.py compares both). A member whose file has the same bytes in the previous release
is not compressed again: its entry is copied from that release's zip (export/incremental.py verified its digest).
"""

from __future__ import annotations

import copy
import zipfile
import zlib
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from belarus_releases.export.incremental import Doubt, same_file

ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold: nothing depends on when it was built
ZIP_LEVEL = 3  # deflate level: half the time of the default (6) for a zip about 5 % larger
COPY_CHUNK = 1 << 20  # as shutil.copyfileobj fed zipfile: the blocks each compressor is given
SMALL = 1 << 20  # a file not linked from the previous release is compared byte by byte up to this size
THREADS = 2
LOCAL_HEADER_SIZE = 30  # a zip entry's local header before its name and extra field (zipfile.sizeFileHeader)
Member = tuple[zipfile.ZipInfo, bytes, bytes]  # the entry, its local header, its compressed data


class PackageZip:
    """The zip of files of `folder`, each started by `add` once final, written by `write`. Close it in any case."""

    def __init__(self, folder: Path, previous: Path | None = None, name: str = "") -> None:
        self.folder, self.previous = folder, previous
        self.pool = ThreadPoolExecutor(THREADS)
        self.members: dict[str, Future[Member]] = {}
        self.old: dict[str, zipfile.ZipInfo] = {}
        try:
            if previous is not None:
                with zipfile.ZipFile(previous / name) as old:
                    self.old = dict(old.NameToInfo)
        except (OSError, zipfile.BadZipFile):  # no previous zip to copy from: every member is compressed
            self.old = {}
        self.old_zip = previous / name if previous is not None else None

    def add(self, names: list[str]) -> None:
        """Start compressing (or copying) each named file of the folder, now that it is final (once: a file added
        before is not started again)."""
        for name in names:
            if name in self.members:
                continue
            entry = self.old.get(name)
            if entry is not None and self.previous and self.old_zip and _same_bytes(self.previous / name,
                                                                                     self.folder / name):
                self.members[name] = self.pool.submit(_copied, self.old_zip, entry)
            else:
                self.members[name] = self.pool.submit(_compressed, self.folder / name, name)

    def write(self, target: Path, names: list[str]) -> Path:
        """Write the zip of the files `names` (each added before, and written once), in that order."""
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            assert archive.fp is not None
            for name in names:
                entry, header, data = self.members.pop(name).result()  # let go once written (50 MB at 100,000 records)
                entry.header_offset = archive.fp.tell()
                archive.fp.write(header)
                archive.fp.write(data)
                archive.filelist.append(entry)
                archive.NameToInfo[entry.filename] = entry
                archive.start_dir = archive.fp.tell()  # where the central directory goes, as zipfile sets it
        return target

    def close(self) -> None:
        self.pool.shutdown(cancel_futures=True)


def _compressed(path: Path, name: str) -> Member:
    """What zipfile writes for `path` as entry `name` (ZipFile.open(entry, "w") with the entry's size known)."""
    entry = zipfile.ZipInfo(name, date_time=ZIP_TIME)
    entry.compress_type = zipfile.ZIP_DEFLATED
    entry.external_attr = 0o644 << 16
    compressor = zlib.compressobj(ZIP_LEVEL, zlib.DEFLATED, -15)
    parts, crc, size = [], 0, 0
    with path.open("rb") as source:
        while block := source.read(COPY_CHUNK):
            crc, size = zlib.crc32(block, crc), size + len(block)
            parts.append(compressor.compress(block))
    parts.append(compressor.flush())
    data = b"".join(parts)
    entry.file_size, entry.compress_size, entry.CRC = size, len(data), crc
    if size * 1.05 > zipfile.ZIP64_LIMIT:  # zipfile would write a Zip64 header: not done here
        raise Doubt(f"{name} is too large for this zip writer")
    return entry, entry.FileHeader(False), data


def _copied(old_zip: Path, entry: zipfile.ZipInfo) -> Member:
    """The entry of the previous zip as it is there: its local header and compressed data."""
    with old_zip.open("rb") as old:
        old.seek(entry.header_offset)
        header = old.read(LOCAL_HEADER_SIZE)
        extra = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30], "little")  # name, extra field
        header += old.read(extra)
        data = old.read(entry.compress_size)
    if header[:4] != b"PK\x03\x04" or entry.flag_bits & 0x08 or len(data) != entry.compress_size:
        raise Doubt(f"{entry.filename}: the previous zip's entry is not as this build writes them")
    return copy.copy(entry), header, data


def _same_bytes(one: Path, other: Path) -> bool:
    """Whether two files have the same bytes: one file linked twice, or a small file read and compared."""
    if same_file(one, other):
        return True
    try:
        return one.stat().st_size == other.stat().st_size <= SMALL and one.read_bytes() == other.read_bytes()
    except OSError:
        return False
