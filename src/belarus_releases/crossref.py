"""Rules across files: unique ids, references that resolve, safe source paths, no unused registry entries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .layout import Layout
from .load import JsonPath, Loaded
from .problems import Problem, at


def _entries(registry: Loaded, key: str) -> list[dict[str, Any]]:
    data = registry.data or {}
    return [entry for entry in data.get(key, []) if isinstance(entry, dict)]


def person_references(record: dict[str, Any]) -> Iterator[tuple[str, JsonPath]]:
    for number, official in enumerate(record.get("officials", [])):
        yield official["person"], ("officials", number, "person")
    for number, person in enumerate(record.get("release", {}).get("people", [])):
        yield person, ("release", "people", number)


def source_references(record: dict[str, Any]) -> Iterator[tuple[str, JsonPath]]:
    for number, source in enumerate(record["sources"]):
        yield source["file"], ("sources", number, "file")


def crossref_problems(layout: Layout, records: list[Loaded], people: Loaded, sources: Loaded, *, complete: bool) -> list[Problem]:
    """Problems across files; unused entries only when `complete` (every record was readable and valid)."""
    problems = [*_duplicates(records, people, sources)]
    person_ids = {entry["id"] for entry in _entries(people, "people")}
    source_files = {entry["file"] for entry in _entries(sources, "sources")}
    used_people: set[str] = set()
    cited: set[str] = set()
    for loaded in records:
        for person, path in person_references(loaded.data):
            used_people.add(person)
            if person not in person_ids:
                problems.append(at(loaded.file, loaded.position(path), "unknown-person",
                                   f"no person with id '{person}' in registry/people.yml"))
        for file, path in source_references(loaded.data):
            cited.add(file)
            if file not in source_files:
                problems.append(at(loaded.file, loaded.position(path), "unknown-source",
                                   f"'{file}' is not listed in registry/sources.yml"))
    problems.extend(_evidence_files(people, source_files))
    problems.extend(_source_files(layout, sources))
    if complete and records:  # while a record is broken its references are unknown, so nothing is called unused
        problems.extend(_unused(people, "people", "id", used_people, "no record names this person"))
        problems.extend(_unused(sources, "sources", "file", cited, "no record cites this source"))
    return problems


def _duplicates(records: list[Loaded], people: Loaded, sources: Loaded) -> Iterator[Problem]:
    first_record: dict[str, str] = {}
    for loaded in records:
        other = first_record.setdefault(loaded.data["id"], loaded.file)
        if other != loaded.file:
            yield at(loaded.file, loaded.position(("id",)), "duplicate-id",
                     f"the id '{loaded.data['id']}' is also the id of {other}")
    for registry, key, field in ((people, "people", "id"), (sources, "sources", "file")):
        seen: dict[str, int] = {}
        for number, entry in enumerate(_entries(registry, key)):
            if entry[field] in seen:
                first = registry.position((key, seen[entry[field]], field))
                yield at(registry.file, registry.position((key, number, field)), "duplicate-id",
                         f"'{entry[field]}' is listed twice (first at line {first[0]})")
            seen.setdefault(entry[field], number)


def _evidence_files(people: Loaded, source_files: set[str]) -> Iterator[Problem]:
    for p, person in enumerate(_entries(people, "people")):
        for r, role in enumerate(person.get("roles", [])):
            for e, evidence in enumerate(role.get("evidence", [])):
                if evidence["file"] not in source_files:
                    yield at(people.file, people.position(("people", p, "roles", r, "evidence", e, "file")),
                             "unknown-source", f"'{evidence['file']}' is not listed in registry/sources.yml")


def source_path(layout: Layout, file: str) -> Path | None:
    """The source file's path if it is a regular file directly inside sources/, else None."""
    path = layout.sources / file
    if "/" in file or "\\" in file or file.startswith(".") or path.is_symlink() or not path.is_file():
        return None
    return path if path.resolve().parent == layout.sources.resolve() else None


def _source_files(layout: Layout, sources: Loaded) -> Iterator[Problem]:
    listed = set()
    for number, entry in enumerate(_entries(sources, "sources")):
        file = entry["file"]
        listed.add(file)
        where = sources.position(("sources", number, "file"))
        if (layout.sources / file).is_symlink():
            yield at(sources.file, where, "unsafe-path", f"sources/{file} is a symbolic link; copy the document in instead")
        elif source_path(layout, file) is None:
            yield at(sources.file, where, "unknown-source", f"there is no file sources/{file}")
    if layout.sources.is_dir():
        for path in sorted(layout.sources.iterdir()):
            if path.name not in listed and not path.name.startswith("."):
                yield Problem(sources.file, 1, 1, "unknown-source",
                              f"sources/{path.name} is not listed here; add an entry for it")


def _unused(registry: Loaded, key: str, field: str, used: set[str], message: str) -> Iterator[Problem]:
    for number, entry in enumerate(_entries(registry, key)):
        if entry[field] not in used:
            yield at(registry.file, registry.position((key, number, field)), "unused-entry",
                     f"'{entry[field]}': {message}; cite it from a record or remove it")
