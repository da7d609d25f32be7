"""The check's cache on disk (check/cache.py says what it holds): a file under build/cache/, its entries
written atomically and read only when whole, undamaged, and written by the same checker (`checker_key`)."""

from __future__ import annotations

import functools
import gc
import hashlib
import importlib.metadata
import marshal
import os
import sys
import tempfile
import unicodedata
import zlib
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import yaml

import belarus_releases
from belarus_releases.check import yaml_reader
from belarus_releases.layout import Layout

FORMAT = 2  # raise whenever what is stored changes meaning
MAGIC = b"belarus-releases check cache\n"
# One file, read and written whole: its entries are small (each record's data is one marshalled bytes object, as
# the check made it), so that reading it is one read and one loads, and writing it costs little more than the copy.
CACHE_FILE = "check.marshal"
# Libraries whose behaviour is part of what the check finds (parsing, schema messages, look-alike letters).
LIBRARIES = ("PyYAML", "jsonschema", "jsonschema-rs", "referencing", "jsonschema-specifications", "confusable-homoglyphs")
PACKAGE = Path(belarus_releases.__file__).parent
# The checker's code: every module of check/ and those it imports from the package.
CODE = ("check/*.py", "problems.py", "record.py", "layout.py", "__init__.py")


def write_entries(path: Path, key: bytes, entries: dict[str, Any]) -> None:
    payload = marshal.dumps((FORMAT, entries))
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(prefix=".check-", suffix=".tmp", dir=path.parent)
        with os.fdopen(handle, "wb") as file:
            file.write(MAGIC + key + zlib.crc32(payload).to_bytes(4, "big"))
            file.write(payload)
        os.replace(temporary, path)
    except OSError:  # read-only checkout, full disk: the next check runs without these entries, as this one might have
        if temporary is not None:
            with suppress(OSError):
                os.unlink(temporary)


def read_entries(path: Path, key: bytes) -> dict[str, Any]:
    """The stored entries, or none when the file is missing, damaged, or written by another checker."""
    header = len(MAGIC) + len(key)
    try:
        content = path.read_bytes()
    except OSError:
        return {}
    payload = memoryview(content)[header + 4:]
    if content[:header] != MAGIC + key or zlib.crc32(payload).to_bytes(4, "big") != content[header:header + 4]:
        return {}
    try:
        found = marshal.loads(payload)
    except Exception:  # bad marshal data, whatever marshal calls it: the cache is only ever a shortcut
        return {}
    if not (isinstance(found, tuple) and len(found) == 2 and found[0] == FORMAT and isinstance(found[1], dict)):
        return {}
    return found[1]


@contextmanager
def no_garbage_collection() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


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
