"""Where things are in a dataset repository. Every path the toolkit touches is named here once."""

from __future__ import annotations

import hashlib
import os
import stat
from dataclasses import dataclass
from pathlib import Path

# Everything `validate` reads, as paths relative to the repository's root: what a revision of the dataset is.
INPUTS = ("records", "registry", "sources", "schema", "metadata.yml", "assertions.yml")


@dataclass(frozen=True)
class Layout:
    """The files of one dataset repository, rooted at `root` (the current directory for the CLI)."""

    root: Path

    @property
    def records(self) -> Path:
        return self.root / "records"

    @property
    def people(self) -> Path:
        return self.root / "registry" / "people.yml"

    @property
    def source_registry(self) -> Path:
        return self.root / "registry" / "sources.yml"

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def schemas(self) -> Path:
        return self.root / "schema"

    @property
    def metadata(self) -> Path:
        return self.root / "metadata.yml"

    @property
    def readme(self) -> Path:
        return self.root / "README.md"

    @property
    def assertions(self) -> Path:
        return self.root / "assertions.yml"

    @property
    def datapackage(self) -> Path:
        """The committed descriptor of the published package (paths through build/current), made by `make datapackage`."""
        return self.root / "datapackage.json"

    @property
    def build(self) -> Path:
        return self.root / "build"

    @property
    def releases(self) -> Path:
        """One folder per build, each holding every output of that build (export/publish.py)."""
        return self.build / "releases"

    @property
    def current(self) -> Path:
        """The symbolic link to the live release: the stable path readers use (build/current/events.csv)."""
        return self.build / "current"

    @property
    def cache(self) -> Path:
        """What the check keeps between runs (check/cache.py): never published, safe to delete at any time."""
        return self.build / "cache"

    @property
    def build_lock(self) -> Path:
        return self.build / ".lock"

    @property
    def database(self) -> Path:
        return self.current / "belarus-releases.db"

    @property
    def overview(self) -> Path:
        """The README's overview table of the live release, as Markdown (copied into README.md by `make readme`)."""
        return self.current / "overview.md"

    def output(self, name: str) -> Path:
        """One published file by name, through build/current: output("events.csv")."""
        return self.current / name

    def relative(self, path: Path) -> str:
        """A path as reported to contributors: relative to the root, with forward slashes."""
        return path.relative_to(self.root).as_posix()

    def schema(self, name: str) -> Path:
        return self.schemas / f"{name}.schema.json"

    def source_file(self, name: str) -> Path | None:
        """The source document `name` when it is a regular file directly inside sources/ (no link), else None."""
        return None if self.source_status(name) is None else self.sources / name

    def source_status(self, name: str) -> os.stat_result | None:
        """The status of the source document `name` when it is a regular file directly inside sources/ (no link),
        else None. A plain name (no separator, no "..") is a file directly in sources/, with nothing to resolve; its
        status not followed through a link is a regular file's only when it is no link (one system call)."""
        if not is_plain_file_name(name):
            return None
        try:
            status = os.lstat(os.path.join(self.sources, name))
        except (OSError, ValueError):  # ValueError: a NUL in the name
            return None
        return status if stat.S_ISREG(status.st_mode) else None


def is_plain_file_name(name: str) -> bool:
    """Whether `name` names a file and nothing more: no folder, no parent, not hidden, not an absolute path.

    The one rule for every file name a contributor writes (a source's `file`); the schemas' patterns are stricter still."""
    return "/" not in name and "\\" not in name and not name.startswith(".")


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as hex: what registry/sources.yml records for each source document."""
    return hashlib.sha256(path.read_bytes()).hexdigest()
