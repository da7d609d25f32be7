"""The check's cache on disk (check/cache.py says what it holds): files under build/cache/, each written atomically
and read only when whole, undamaged, and written by the same checker (`checker_key`).

CACHE_FILE holds every entry; CHANGES_FILE, the entries that a check changed since CACHE_FILE was written (with
those it dropped), while they are few: a check that changed one record of 100,000 writes one entry, not 140 MB
(0.9 s). Each CACHE_FILE has a generation of its own, which its CHANGES_FILE names: changes made to another are
never applied."""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import itertools
import marshal
import os
import struct
import sys
import tempfile
import unicodedata
import zlib
from collections.abc import Iterable
from contextlib import suppress
from pathlib import Path
from typing import Any, BinaryIO

import yaml

import belarus_releases
from belarus_releases.check import yaml_reader
from belarus_releases.layout import Layout

FORMAT = 8  # raise whenever what is stored changes meaning
MAGIC = b"belarus-releases check cache\n"
# Each file is written and read frame by frame: the other entries, then the records' entries CHUNK at a time, then an
# end mark. Each frame is one marshal dump with its length and CRC-32, so that neither writing nor reading ever
# holds the bytes of the whole file (160 MB for 100,000 records), only those of one frame. Inside it, each record's
# data is marshalled bytes of its own, decoded only if read (cache.py).
CACHE_FILE = "check.marshal"
CHANGES_FILE = "check.changes"
CHUNK = 4096
_FRAME = struct.Struct(">QI")  # a frame's length and CRC-32
# Libraries whose behaviour is part of what the check finds (parsing, schema messages, look-alike letters).
LIBRARIES = ("PyYAML", "jsonschema", "jsonschema-rs", "referencing", "jsonschema-specifications", "confusable-homoglyphs")
PACKAGE = Path(belarus_releases.__file__).parent
# The checker's code: every module of check/ and those it imports from the package.
CODE = ("check/*.py", "problems.py", "record.py", "layout.py", "__init__.py")


class _Damaged(Exception):
    """The file is not whole, or not what this checker wrote."""


def write_entries(path: Path, key: bytes, generation: bytes, entries: dict[str, Any],
                  records: Iterable[tuple[str, Any]]) -> None:
    """Write `entries` and the records' entries (made as they are written), atomically, as `generation`."""
    _write_frames(path, key, (FORMAT, generation, entries), records)


def write_changes(path: Path, key: bytes, generation: bytes, entries: dict[str, Any],
                  records: Iterable[tuple[str, Any]], dropped: list[str]) -> None:
    """Write the changes made to the entries of CACHE_FILE's `generation`: `entries` (in place of its own), the
    records' entries changed or added, and the names of those `dropped`, atomically."""
    _write_frames(path, key, (FORMAT, generation, entries, dropped), records)


def _write_frames(path: Path, key: bytes, head: tuple[Any, ...], records: Iterable[tuple[str, Any]]) -> None:
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".check-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(MAGIC + key)
            _write_frame(file, head)
            items = iter(records)
            while chunk := dict(itertools.islice(items, CHUNK)):
                _write_frame(file, chunk)
            _write_frame(file, None)  # the end: a file cut short between two frames is not whole either
        os.replace(temporary, path)
    except OSError:  # read-only checkout, full disk: the next check runs without these entries, as this one might have
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)


def _write_frame(file: BinaryIO, value: Any) -> None:
    payload = marshal.dumps(value)
    file.write(_FRAME.pack(len(payload), zlib.crc32(payload)))
    file.write(payload)


def read_entries(path: Path, key: bytes) -> dict[str, Any]:
    """The stored entries (the records' under "records") and the generation of `path` (under "generation"), with
    the changes written since (CHANGES_FILE beside it) for the caller to apply: the records' entries changed or
    added under "changed", the names of those gone under "dropped", and the other entries in place of the stored
    ones. Empty when `path` is missing, damaged, or written by another checker; no changes when they are damaged or
    were made to another generation."""
    found = _read_frames(path, key, 3)
    if found is None:
        return {}
    (_, generation, entries), records = found
    result = {**entries, "records": records, "generation": generation, "changed": {}, "dropped": []}
    changes = _read_frames(path.with_name(CHANGES_FILE), key, 4)
    if changes is not None and changes[0][1] == generation and isinstance(changes[0][3], list):
        (_, _, later, dropped), changed = changes
        result.update(later, changed=changed, dropped=dropped)
    return result


def _read_frames(path: Path, key: bytes, head_size: int) -> tuple[tuple[Any, ...], dict[str, Any]] | None:
    """A file's head (a tuple of `head_size` items: FORMAT, a generation, a dict, ...) and its records' entries, or
    None when it is missing, damaged, or written by another checker or format."""
    try:
        with open(path, "rb") as file:
            if file.read(len(MAGIC) + len(key)) != MAGIC + key:
                return None
            size = os.fstat(file.fileno()).st_size
            head = _read_frame(file, size)
            if not (isinstance(head, tuple) and len(head) == head_size and head[0] == FORMAT
                    and isinstance(head[1], bytes) and isinstance(head[2], dict)):
                return None
            records: dict[str, Any] = {}
            while (chunk := _read_frame(file, size)) is not None:
                if not isinstance(chunk, dict):
                    return None
                records.update(chunk)
            if file.read(1):
                return None
    except (OSError, _Damaged):
        return None
    return head, records


def _read_frame(file: BinaryIO, limit: int) -> Any:
    """The next frame's value; `limit`, the file's size, bounds what a damaged length could make it allocate."""
    header = file.read(_FRAME.size)
    if len(header) != _FRAME.size:
        raise _Damaged
    size, crc = _FRAME.unpack(header)
    if size > limit:
        raise _Damaged
    payload = file.read(size)
    if len(payload) != size or zlib.crc32(payload) != crc:
        raise _Damaged
    try:
        return marshal.loads(payload)
    except Exception as error:  # bad marshal data, whatever marshal calls it: the cache is only ever a shortcut
        raise _Damaged from error


def checker_key(layout: Layout) -> bytes:
    """What the check's results depend on besides the files checked: its code and libraries, the parser in use,
    Python's Unicode tables, and the schemas."""
    digest = hashlib.sha256(_code_key())
    libyaml = getattr(getattr(yaml, "_yaml", None), "get_version_string", lambda: "absent")()
    digest.update(f"{yaml_reader.Loader!r} {libyaml}".encode())
    for path in sorted(layout.schemas.glob("*.schema.json")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


@functools.cache
def _code_key() -> bytes:
    digest = hashlib.sha256(repr((FORMAT, belarus_releases.__version__, sys.version, marshal.version,
                                  unicodedata.unidata_version, [_version(name) for name in LIBRARIES])).encode())
    for path in sorted(path for pattern in CODE for path in PACKAGE.glob(pattern)):
        digest.update(path.relative_to(PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "absent"
