"""Which files are inputs: every file under records/ is a record or a located problem; registries and schemas
must be regular files where the layout says. The same rule for every input: no symbolic links (a link could
point anywhere on the contributor's or the server's disk)."""

from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema

from belarus_releases.layout import Layout
from belarus_releases.problems import Problem

SCHEMAS = ("record", "people", "sources")
_RECORD_NAME = re.compile(r"^[a-z0-9][a-z0-9-]*\.yml$")


def record_files(layout: Layout) -> tuple[list[str], list[Problem]]:
    """The record files to check, and a problem for anything else under records/ (nothing is skipped silently)."""
    names, problems = [], []
    if layout.records.is_dir():
        folder = layout.relative(layout.records)
        # os.scandir: the kind of each entry comes with the listing, without a stat of each of thousands of files
        with os.scandir(layout.records) as found:
            listing = sorted(found, key=lambda entry: entry.name)
        for path in listing:
            relative = f"{folder}/{path.name}"
            problem = _not_a_record(path, relative)
            if problem:
                problems.append(problem)
            else:
                names.append(relative)
    return names, problems


def _not_a_record(path: Path | os.DirEntry[str], relative: str) -> Problem | None:
    if path.is_symlink():
        return Problem(relative, 0, 0, "unsafe-path", "this record is a symbolic link; replace it with the record file itself")
    if path.is_dir():
        return Problem(relative, 0, 0, "bad-file-name",
                       "records/ holds record files only, not folders; move the records in it up into records/")
    if not _RECORD_NAME.match(path.name):
        return Problem(relative, 0, 0, "bad-file-name", f"records are named ID.yml (lower-case letters, digits and "
                       f"hyphens, ending in .yml); {_rename_advice(path.name)}")
    if not path.is_file():
        return Problem(relative, 0, 0, "bad-file-name", "this is not a regular file; replace it with a record file")
    return None


def _rename_advice(name: str) -> str:
    stem = name.strip()
    for suffix in (".yml", ".yaml", ".json"):
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
    wanted = re.sub(r"[^a-z0-9-]+", "-", stem.strip().lower()).strip("-")
    if wanted and f"{wanted}.yml" != name:
        return f"rename it to {wanted}.yml (and make its id {wanted})"
    return "rename it, or move it out of records/ if it is not a record"


def input_file_problem(layout: Layout, path: Path) -> Problem | None:
    """A problem when a registry or other fixed input is missing, a symbolic link, or not a regular file."""
    relative = layout.relative(path)
    if path.is_symlink():
        return Problem(relative, 0, 0, "unsafe-path", f"{relative} is a symbolic link; replace it with the file itself")
    if not path.is_file():
        return Problem(relative, 0, 0, "missing-file", f"{relative} is missing; restore it from the main branch")
    return None


def schema_file_problems(layout: Layout, *, known_valid: bool = False) -> dict[str, Problem]:
    """For each schema that cannot be used (missing, a link, not JSON, not a JSON Schema), one problem, by schema name.

    `known_valid`: these very bytes were found to be JSON Schemas before (the check's cache is keyed by them), so
    they are not checked again; that costs more than a warm check of thousands of records."""
    found = {}
    for name in SCHEMAS:
        path = layout.schema(name)
        problem = input_file_problem(layout, path) or (None if known_valid else _unreadable_schema(layout, path))
        if problem:
            found[name] = problem
    return found


@lru_cache(maxsize=16)
def checked_schema(text: str) -> dict[str, Any]:
    """A schema document read and checked against the JSON Schema meta-schema, once per distinct text: a check
    reads each schema twice, and tests and forks hold many copies of the same file. Raises ValueError (not JSON)
    or jsonschema.SchemaError, which are never cached, so a broken schema is checked and refused every time.
    The result is shared: never change it."""
    schema: dict[str, Any] = json.loads(text)
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


def _unreadable_schema(layout: Layout, path: Path) -> Problem | None:
    try:
        checked_schema(path.read_text(encoding="utf-8"))
    except (ValueError, jsonschema.SchemaError) as error:
        relative = layout.relative(path)
        reason = "not JSON" if isinstance(error, ValueError) else "not a valid JSON Schema"
        return Problem(relative, 0, 0, "missing-file", f"{relative} is {reason}; restore it from the main branch")
    return None
