"""Diff: what a change does to the published tables, between two git revisions or a revision and the working tree.

Each revision's dataset inputs are read from git's object store into a temporary folder (the user's work tree and
index are never touched), checked and flattened exactly as `build` would, and the tables are compared row by row
by primary key. A side that does not validate has no published tables (`build` writes nothing for it), so then
there is no table diff: the result says which side failed and carries its problems instead.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from belarus_releases.check.dataset import check_dataset
from belarus_releases.export.flatten import Row, Tables, flatten
from belarus_releases.layout import INPUTS, Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES, Table

DATASET_PARTS = INPUTS  # what check_dataset reads


class DiffError(Exception):
    """The revisions cannot be compared at all (as opposed to a side that does not validate)."""


class GitMissing(DiffError):
    """git is not installed or not on PATH."""


class NotARepository(DiffError):
    """The dataset folder is not inside a git work tree."""


class UnknownRevision(DiffError):
    """A revision names no commit."""


@dataclass(frozen=True)
class Side:
    """One side of the comparison: the revision as given (None for the working tree), its commit, its problems."""

    label: str  # BASE or HEAD
    revision: str | None
    commit: str | None
    problems: tuple[Problem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {"revision": self.revision, "commit": self.commit, "valid": self.ok,
                "problems": [problem.to_dict() for problem in self.problems]}


@dataclass(frozen=True)
class RowChange:
    """A row present on both sides with different values: its primary key, and (old, new) for each changed column."""

    key: tuple[Any, ...]
    fields: dict[str, tuple[Any, Any]]


@dataclass(frozen=True)
class TableDiff:
    """The rows of one table added, removed and changed, each list sorted by primary key."""

    table: Table
    added: tuple[Row, ...]
    removed: tuple[Row, ...]
    changed: tuple[RowChange, ...]

    def to_dict(self) -> dict[str, Any]:
        names = self.table.primary_key
        return {"primary_key": list(names), "added": list(self.added), "removed": list(self.removed),
                "changed": [{"key": dict(zip(names, change.key, strict=True)),
                             "fields": {column: {"old": old, "new": new} for column, (old, new) in change.fields.items()}}
                            for change in self.changed]}


@dataclass(frozen=True)
class DatasetDiff:
    """Both sides, and the tables that differ (in published order; unchanged tables are left out)."""

    base: Side
    head: Side
    tables: tuple[TableDiff, ...]

    @property
    def comparable(self) -> bool:
        """Whether both sides validate, so that the tables could be compared."""
        return self.base.ok and self.head.ok

    def to_dict(self) -> dict[str, Any]:
        return {"base": self.base.to_dict(), "head": self.head.to_dict(), "comparable": self.comparable,
                "tables": {diff.table.name: diff.to_dict() for diff in self.tables}}


def diff_revisions(repo_root: Path, base: str, head: str | None) -> DatasetDiff:
    """Compare the published tables of revision `base` with those of `head`, or of the working tree when `head` is None.

    :param repo_root: the dataset folder, inside a git work tree (it may be a subfolder of the repository)
    :raises DiffError: when git is missing, `repo_root` is not in a git work tree, or a revision names no commit
    """
    ensure_repository(repo_root)
    base_commit = resolve(repo_root, base)
    head_commit = None if head is None else resolve(repo_root, head)
    base_side, old = read_side(repo_root, "BASE", base, base_commit)
    head_side, new = read_side(repo_root, "HEAD", head, head_commit)
    tables = compare_tables(old, new) if base_side.ok and head_side.ok else ()
    return DatasetDiff(base_side, head_side, tables)


def git(root: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run git in `root`; its own language and pager settings cannot change what is read."""
    env = {**os.environ, "LC_ALL": "C", "GIT_PAGER": "cat"}
    try:
        return subprocess.run(["git", "-C", str(root), *args], input=stdin, capture_output=True, env=env, check=False)
    except FileNotFoundError as error:
        raise GitMissing("git is not installed (or not on PATH); diff reads the revisions with it") from error


def ensure_repository(root: Path) -> None:
    done = git(root, "rev-parse", "--is-inside-work-tree")
    if done.returncode or done.stdout.strip() != b"true":
        raise NotARepository(f"{root} is not in a git repository; diff compares git revisions")


def resolve(root: Path, revision: str) -> str:
    """The commit id `revision` names; --end-of-options so that a revision cannot be read as an option."""
    done = git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{revision}^{{commit}}")
    if done.returncode:
        raise UnknownRevision(f"unknown revision '{revision}': no branch, tag or commit of that name")
    return done.stdout.decode().strip()


def read_side(root: Path, label: str, revision: str | None, commit: str | None) -> tuple[Side, Tables]:
    """Check and flatten one side: a commit read into a temporary folder, or the working tree as it is."""
    if commit is None:
        return tables_of(Layout(root), label, revision, commit)
    with tempfile.TemporaryDirectory(prefix="belarus-releases-diff-") as folder:
        materialise(root, commit, Path(folder))
        return tables_of(Layout(Path(folder)), label, revision, commit)


def tables_of(layout: Layout, label: str, revision: str | None, commit: str | None) -> tuple[Side, Tables]:
    result = check_dataset(layout)
    # Only a valid dataset is published, so only its tables are compared.
    return Side(label, revision, commit, tuple(result.problems)), flatten(result) if result.ok else {}


def materialise(root: Path, commit: str, target: Path) -> None:
    """Write the dataset parts of `commit` under `target`, as the work tree would hold them at that commit.

    Regular files are written first and symbolic links made last, so no write goes through a link; a link is kept
    as a link so that the check reports it as it would in a work tree."""
    entries = tree_entries(root, commit)
    blobs = read_blobs(root, [oid for _, oid, _ in entries])
    for mode, oid, path in sorted(entries, key=lambda entry: entry[0] == "120000"):
        destination = target / safe_path(path)
        destination.parent.mkdir(parents=True, exist_ok=True)
        if mode == "120000":
            os.symlink(os.fsdecode(blobs[oid]), destination)
        else:
            destination.write_bytes(blobs[oid])


def tree_entries(root: Path, commit: str) -> list[tuple[str, str, str]]:
    """(mode, blob id, path relative to `root`) of every file of the dataset parts at `commit`; submodules skipped."""
    done = git(root, "ls-tree", "-r", "-z", commit, "--", *DATASET_PARTS)
    if done.returncode:
        raise DiffError(f"git could not list {commit}: {done.stderr.decode(errors='backslashreplace').strip()}")
    entries = []
    for line in done.stdout.decode("utf-8", errors="surrogateescape").split("\0"):
        if line:
            info, path = line.split("\t", 1)
            mode, kind, oid = info.split()
            if kind == "blob":
                entries.append((mode, oid, path))
    return entries


def read_blobs(root: Path, oids: list[str]) -> dict[str, bytes]:
    """The contents of the given blobs, read with one `git cat-file --batch`."""
    done = git(root, "cat-file", "--batch", stdin="".join(f"{oid}\n" for oid in oids).encode())
    if done.returncode:
        raise DiffError(f"git could not read the files: {done.stderr.decode(errors='backslashreplace').strip()}")
    blobs, out, at = {}, done.stdout, 0
    for oid in oids:
        header_end = out.index(b"\n", at)
        header = out[at:header_end].split()
        if len(header) != 3:  # "<oid> missing": a shallow or partial clone without this file's contents
            raise DiffError(f"git has not got the contents of {oid}; fetch the revision first")
        size = int(header[2])
        blobs[oid] = out[header_end + 1: header_end + 1 + size]
        at = header_end + 1 + size + 1  # the content is followed by a newline
    return blobs


def safe_path(path: str) -> PurePosixPath:
    """`path` as git stores it, refused if it could leave the folder (git itself never writes such paths)."""
    pure = PurePosixPath(path)
    if pure.is_absolute() or any(part in ("", ".", "..") for part in path.split("/")):
        raise DiffError(f"the revision holds a path that is not safe to write: {path!r}")
    return pure


def compare_tables(old: Tables, new: Tables) -> tuple[TableDiff, ...]:
    """Every table whose rows differ, in published order."""
    diffs = (compare_table(table, old.get(table.name, []), new.get(table.name, [])) for table in TABLES)
    return tuple(diff for diff in diffs if diff.added or diff.removed or diff.changed)


def compare_table(table: Table, old_rows: list[Row], new_rows: list[Row]) -> TableDiff:
    old = {table.sort_key(row): row for row in old_rows}
    new = {table.sort_key(row): row for row in new_rows}
    changed = (RowChange(key, changed_fields(table, old[key], new[key])) for key in sorted(old.keys() & new.keys()))
    return TableDiff(table, tuple(new[key] for key in sorted(new.keys() - old.keys())),
                     tuple(old[key] for key in sorted(old.keys() - new.keys())),
                     tuple(change for change in changed if change.fields))


def changed_fields(table: Table, old: Row, new: Row) -> dict[str, tuple[Any, Any]]:
    """(old, new) for each column whose value differs, in column order; lists compare as whole values."""
    return {name: (old[name], new[name]) for name in table.column_names if old[name] != new[name]}
