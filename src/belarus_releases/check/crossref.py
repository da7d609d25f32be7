"""Rules across files: unique ids, references that resolve, safe source paths, no unused registry entries."""

from __future__ import annotations

import difflib
import functools
import os
from collections.abc import Callable, Collection, Iterable, Iterator

from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.layout import Layout
from belarus_releases.problems import JsonPath, Problem, at
from belarus_releases.record import References, entries, references, role_evidence, source_references


def crossref_problems(layout: Layout, records: list[Loaded], people: Loaded, sources: Loaded, *, complete: bool,
                      record_ids: Collection[str] = ()) -> list[Problem]:
    """Problems across files. A registry that is missing or invalid (data None) is left out of the checks that need it,
    so one mistake in it hides nothing else; unused entries only when `complete` (every record was readable and valid).
    `record_ids` are the ids of every record file, valid or not, which links may name."""
    # what the rules read of each record, made once (a record from the check's cache has it without its data)
    referenced = [(loaded, references(loaded)) for loaded in records]
    problems = [*_duplicates(people, sources), *_former_ids(referenced, set(record_ids)),
                *_links(referenced, set(record_ids))]
    used_people: set[str] = set()  # filled by _dangling, read only when the registry is valid
    cited: set[str] = set()
    if people.data is not None:
        person_ids = {entry["id"] for entry in entries(people, "people")}
        problems.extend(_dangling(referenced, _people, person_ids, used_people, "unknown-person",
                                  "no person with id '{}' in registry/people.yml; add them there or fix the id"))
    if sources.data is not None:
        source_files = {entry["file"] for entry in entries(sources, "sources")}
        problems.extend(_dangling(referenced, source_references, source_files, cited, "unknown-source",
                                  "'{}' is not listed in registry/sources.yml; add an entry for it there or fix the name"))
        problems.extend(_evidence_files(people, source_files))
        problems.extend(_source_files(layout, sources))
    if complete and records:  # while a record is broken its references are unknown, so nothing is called unused
        problems.extend(_unused(people, "people", "id", used_people, "no record names this person"))
        problems.extend(_unused(sources, "sources", "file", cited, "no record cites this source"))
    return problems


Referenced = list[tuple[Loaded, References]]


def _people(refs: References) -> Iterable[tuple[str, JsonPath]]:
    return refs.people


def _dangling(referenced: Referenced, named: Callable[[References], Iterable[tuple[str, JsonPath]]],
              known: set[str], used: set[str], type_: str, message: str) -> Iterator[Problem]:
    """References to what `known` does not hold; every name referenced goes into `used` (one walk for both)."""
    ordered = functools.cache(lambda: sorted(known))
    advice = _advice(lambda name: ordered())
    for loaded, refs in referenced:
        for name, path in named(refs):
            used.add(name)
            if name not in known:
                yield at(loaded.file, loaded.position(path), type_, message.format(name) + advice(name))


def _advice(candidates: Callable[[str], list[str]]) -> Callable[[str], str]:
    """The advice for an unknown name, the closest of its `candidates`; worked out once for each name, however many
    records repeat it (a renamed person may be named by thousands)."""
    @functools.cache
    def advice(name: str) -> str:
        close = difflib.get_close_matches(name, candidates(name), n=1)
        return f" (did you mean '{close[0]}'?)" if close else ""

    return advice


def _likely_ids(record_ids: set[str]) -> Callable[[str], list[str]]:
    """The ids an unknown id may have been meant as: those with its date or its slug (a typo is in one of them).
    Comparing it with every id instead would cost each broken link the size of the dataset."""
    by_date: dict[str, list[str]] = {}
    by_slug: dict[str, list[str]] = {}
    for record_id in sorted(record_ids):
        by_date.setdefault(record_id[:10], []).append(record_id)
        by_slug.setdefault(record_id[11:], []).append(record_id)
    return lambda other: sorted({*by_date.get(other[:10], []), *by_slug.get(other[11:], [])})


def _duplicates(people: Loaded, sources: Loaded) -> Iterator[Problem]:
    # Record ids need no check here: each must equal its file name (rules.py), and file names are unique;
    # a record that takes another's id is reported as duplicate-id by dataset.py.
    for registry, key, field in ((people, "people", "id"), (sources, "sources", "file")):
        seen: dict[str, int] = {}
        for number, entry in enumerate(entries(registry, key)):
            if entry[field] in seen:
                first = registry.position((key, seen[entry[field]], field))
                yield at(registry.file, registry.position((key, number, field)), "duplicate-id",
                         f"'{entry[field]}' is listed twice (first at line {first[0]}); keep one entry")
            seen.setdefault(entry[field], number)


def _evidence_files(people: Loaded, source_files: set[str]) -> Iterator[Problem]:
    for p, person in enumerate(entries(people, "people")):
        for path, evidence in role_evidence(person):
            if evidence["file"] not in source_files:
                yield at(people.file, people.position(("people", p, *path, "file")), "unknown-source",
                         f"'{evidence['file']}' is not listed in registry/sources.yml; add an entry for it there or fix the name")


def _source_files(layout: Layout, sources: Loaded) -> Iterator[Problem]:
    listed = set()
    for number, entry in enumerate(entries(sources, "sources")):
        file = entry["file"]
        listed.add(file)
        where = ("sources", number, "file")  # located only for a problem: the registry may have to be read again
        if layout.source_status(file) is not None:  # (one system call: 870 sources at 10,000 records)
            continue
        if (layout.sources / file).is_symlink():
            yield at(sources.file, sources.position(where), "unsafe-path",
                     f"sources/{file} is a symbolic link; copy the document in instead")
        else:
            yield at(sources.file, sources.position(where), "unknown-source",
                     f"there is no file sources/{file}; add the file or fix the name")

    if layout.sources.is_dir():
        for name in sorted(os.listdir(layout.sources)):
            if name not in listed and not name.startswith("."):
                yield Problem(sources.file, 1, 1, "unknown-source", f"sources/{name} is not listed here; add an entry for it")


def _unused(registry: Loaded, key: str, field: str, used: set[str], message: str) -> Iterator[Problem]:
    for number, entry in enumerate(entries(registry, key)):
        if entry[field] not in used:
            yield at(registry.file, registry.position((key, number, field)), "unused-entry",
                     f"'{entry[field]}': {message}; cite it from a record or remove it")


def _former_ids(referenced: Referenced, record_ids: set[str]) -> Iterator[Problem]:
    """A former id still resolves to one record only: it is nobody's current id and no other record's former id."""
    seen: dict[str, str] = {}
    for loaded, refs in referenced:
        for number, former in enumerate(refs.former_ids):
            # a position only for a problem: finding one may mean reading the file again
            if former in record_ids:
                yield at(loaded.file, loaded.position(("former_ids", number)), "duplicate-id",
                         f"'{former}' is the id of records/{former}.yml; a former id must not be a current one")
            elif seen.setdefault(former, refs.id) != refs.id:
                yield at(loaded.file, loaded.position(("former_ids", number)), "duplicate-id",
                         f"'{former}' is also a former id of '{seen[former]}'; keep it on one")


def _links(referenced: Referenced, record_ids: set[str]) -> Iterator[Problem]:
    """Each link names another record by its current id."""
    former = {old: refs.id for _, refs in referenced for old in refs.former_ids}
    advice: Callable[[str], str] | None = None
    for loaded, refs in referenced:
        for number, other in enumerate(refs.links):
            if other == refs.id:
                message = "a record cannot link to itself; name the other event's id"
            elif other in former:
                message = f"'{other}' is a former id; link to the record's current id, '{former[other]}'"
            elif other not in record_ids:
                advice = advice or _advice(_likely_ids(record_ids))  # the index only once a link is broken
                message = (f"there is no record with the id '{other}'{advice(other)}; write the current id of a record "
                           "under records/ (its file name without .yml)")
            else:
                continue
            yield at(loaded.file, loaded.position(("links", number, "event")), "unknown-event", message)
