"""Export, the incremental build: when only some records changed since the live release, build from that release.

Every release holds MANIFEST: a key of everything its bytes depend on except the records (this toolkit's code,
the versions of Python and of the libraries that write the files, and every input file but records/), the
SHA-256 of each record file, the rows of each table, and the size and SHA-256 of every other file of the release.

A build whose key is the live release's, and whose records differ from it in a few files, takes its rows from
that release: the changed records' rows are made again, the others' are copied from the previous files
(export/splice.py) and database (export/database.py), and files that no changed record touches are linked.
The result is the same bytes as a full build of the same inputs (tests/test_incremental.py builds both and
compares every file); anything else (no manifest, another key, a file that does not match the manifest, most
records changed, any doubt) makes a full build.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import sys
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from belarus_releases.layout import INPUTS, Layout

if TYPE_CHECKING:  # the site and the database process import this module's neighbours, never the check
    from belarus_releases.check.dataset import CheckResult

MANIFEST = ".build-manifest.json"
FORMAT = 1
LIBRARIES = ("pyarrow", "sqlite-utils", "leather", "frictionless")  # their versions can change the bytes written
MOST, FEW = 0.25, 64  # when more than MOST of the records and more than FEW changed, a full build is as quick
BLOCK = 1 << 20


class Doubt(Exception):
    """The previous release cannot be trusted to give a full build's bytes: build in full."""


@dataclass(frozen=True)
class Plan:
    """An incremental build: the release it starts from, its manifest, and which records' rows change."""

    previous: Path
    manifest: dict[str, Any]
    changed: frozenset[str]  # ids of the records whose rows are made again (new or edited)
    dropped: frozenset[str]  # ids of the records whose rows in the previous release go (edited or removed)

    @property
    def published(self) -> list[str]:
        """The ids of the events the previous release publishes: its records, one event each, as its manifest lists
        them (the build checks that release's files against the manifest, not these ids: a removal they show is
        confirmed in its events.csv, and a key gone from it fails the database's foreign key check)."""
        return list(self.manifest["records"])


def input_digests(layout: Layout, known: Mapping[str, bytes]) -> dict[str, str]:
    """The SHA-256 of every input file but the records, by its path relative to the root: those `known` has (the
    check's, of the bytes it read) as it has them."""
    digests = {}
    for part in INPUTS:
        if part != layout.relative(layout.records):
            for path in _files(layout.root / part):
                name = layout.relative(path)
                digest = known.get(name) or hashlib.sha256(path.read_bytes()).digest()
                digests[name] = digest.hex()
    return digests


def build_key(inputs: dict[str, str]) -> str:
    """Everything but the records that a release's bytes depend on (this code, the libraries, the `inputs` digests
    of input_digests), as one SHA-256."""
    digest = hashlib.sha256()
    digest.update(repr((FORMAT, sys.version, sqlite3.sqlite_version, zlib.ZLIB_RUNTIME_VERSION,
                        [_version(name) for name in LIBRARIES])).encode())
    package = Path(__file__).resolve().parent.parent
    for path in sorted(package.rglob("*.py")):
        _add(digest, path.relative_to(package).as_posix(), hashlib.sha256(path.read_bytes()).digest())
    for name, hexdigest in inputs.items():
        _add(digest, name, bytes.fromhex(hexdigest))
    return digest.hexdigest()


def _version(name: str) -> str:
    from importlib import metadata as package_metadata  # imported here: a tenth of a second, for the build only

    try:
        return package_metadata.version(name)
    except package_metadata.PackageNotFoundError:
        return "absent"


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        return sorted(item for item in path.rglob("*") if item.is_file())
    return [path] if path.is_file() else []


def _add(digest: Any, name: str, content_digest: bytes) -> None:
    digest.update(f"{len(name)}:{name}:".encode())
    digest.update(content_digest)


def record_digests(layout: Layout, check: CheckResult, ids: list[str]) -> dict[str, str]:
    """The SHA-256 of each record's file, by record id (`ids`: those of check.records, in order): of the bytes the
    check read, which the build publishes (read again only when the check did not keep it)."""
    def digest(file: str) -> bytes:
        return check.digests.get(file) or hashlib.sha256((layout.root / file).read_bytes()).digest()

    return {record_id: digest(loaded.file).hex() for record_id, loaded in zip(ids, check.records, strict=True)}


def plan(layout: Layout, key: str, digests: dict[str, str]) -> Plan | None:
    """The incremental build from the live release, or None when a full build is needed (or as quick)."""
    previous = _live(layout)
    manifest = read_manifest(previous) if previous else None
    if previous is None or manifest is None or manifest.get("key") != key:
        return None
    records: dict[str, str] = manifest["records"]
    changed = frozenset(name for name, digest in digests.items() if records.get(name) != digest)
    dropped = changed | frozenset(set(records) - set(digests))
    if len(dropped) > max(MOST * len(digests), FEW):
        return None
    return Plan(previous, manifest, changed, dropped)


def _live(layout: Layout) -> Path | None:
    try:
        return layout.current.resolve(strict=True)
    except OSError:
        return None


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The manifest of a release when it is one this format reads, else None."""
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        return None
    return manifest


def verify(plan: Plan) -> None:
    """Raise Doubt unless every file of the previous release has the size and SHA-256 its manifest says."""
    files: dict[str, list[Any]] = plan.manifest["files"]
    present = sorted(name for name in os.listdir(plan.previous) if name != MANIFEST)
    if present != sorted(files):
        raise Doubt("the previous release's files are not the ones its manifest lists")
    for name, (size, digest) in files.items():
        path = plan.previous / name
        if path.stat().st_size != size or file_digest(path) != digest:
            raise Doubt(f"{name} of the previous release is not what its manifest says")


def same_file(one: Path, other: Path) -> bool:
    """Whether both names are links to one file (a file of a release linked into the next: the same bytes)."""
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False


def file_entry(path: Path) -> list[Any]:
    """A file's size and SHA-256, as the manifest lists them."""
    return [path.stat().st_size, file_digest(path)]


def release_entry(folder: Path, name: str, plan: Plan | None) -> list[Any]:
    """The manifest entry of the release's file `name`: the previous release's when it is that release's file,
    linked (verified against its manifest before anything is published), else taken now."""
    linked = plan.manifest["files"].get(name) if plan else None
    if plan and linked and same_file(plan.previous / name, folder / name):
        return list(linked)
    return file_entry(folder / name)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(BLOCK):
            digest.update(block)
    return digest.hexdigest()


def write_manifest(folder: Path, key: str, digests: dict[str, str], rows: dict[str, int],
                   known: dict[str, list[Any]] | None = None, dialects: dict[str, Any] | None = None,
                   releases: str | None = None, plan: Plan | None = None) -> Path:
    """The release's manifest: its key, record digests and rows, every other file's size and SHA-256 (`known` for
    files whose entry was taken already; a file linked from `plan`'s release has its entry there), and, when the
    package was shown valid fast, the dialect each table was read with (for the next build's check of what changed:
    export/package_recheck.py) and, when known, the digest of the overview query's rows (export/overview.py's
    releases_digest)."""
    known = known or {}
    files = {name: known.get(name) or release_entry(folder, name, plan) for name in sorted(os.listdir(folder))
             if name != MANIFEST}
    manifest = {"format": FORMAT, "key": key, "records": digests, "rows": rows, "files": files}
    if dialects:
        manifest["dialects"] = dialects
    if releases:
        manifest["releases"] = releases
    path = folder / MANIFEST
    # on one line: json writes that in C, in half the time of indented text (9 ms against 17 at 10,000 records)
    path.write_text(json.dumps(manifest, sort_keys=True) + "\n", encoding="utf-8", newline="\n")
    return path
