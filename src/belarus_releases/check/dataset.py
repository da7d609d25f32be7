"""Check a whole dataset repository: load and validate every file, then the rules across files and provenance,
and metadata.yml (so that `validate` refuses what `build` and `serve` would).

This is what `validate` runs and what `build` runs first. Per-file work (load, schema, record rules; per_file.py)
is independent for each file: it is spread over the cores, and skipped for files the cache knows unchanged.
No exception escapes: anything unexpected becomes an `internal-error` problem on the file it happened in.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter
from collections.abc import Callable, Generator, Iterator
from contextlib import suppress
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from belarus_releases.check.cache import CheckCache, RecordEntry, restored
from belarus_releases.check.crossref import crossref_problems
from belarus_releases.check.files import input_file_problem, record_files, schema_file_problems
from belarus_releases.check.metadata import load_metadata
from belarus_releases.check.officials import forms_key, official_problems, registered_forms
from belarus_releases.check.per_file import (
    Compact,
    FileCheck,
    Undecoded,
    check_compact,
    check_file,
    decoded,
    failed_check,
    guarded,
    internal_error,
    restore,
)
from belarus_releases.check.provenance import Provenance, SourcesRead, check_provenance, read_listed
from belarus_releases.check.schema import schema_verdict
from belarus_releases.check.workers import each_in_workers
from belarus_releases.check.yaml_reader import NO_POSITIONS, Loaded
from belarus_releases.layout import Layout
from belarus_releases.memory import give_back_free_memory, lasting_objects, setting_aside
from belarus_releases.problems import JsonPath, Problem
from belarus_releases.record import References

__all__ = ["CheckResult", "FileCheck", "capped", "check_dataset", "check_file", "check_record_files", "guarded",
           "internal_error", "load_assertions"]
MAX_PER_FILE = 50
MANY_FILES = 200  # from this many record files on, they are checked on every core (see check_record_files)
# Up to this many record files, the cache keeps each one's data as its worker marshalled it, for the save (at 10,000
# records: 12 MB held, and 0.05 s less to save); past it, the save marshals the data again, so that a large check
# never holds the bytes beside the data (120 MB at 100,000 records)
KEEP_BYTES_UP_TO = 20_000


@dataclass
class CheckResult:
    """Everything `check_dataset` found: the records whose data has the schema's shape, the registries, metadata.yml
    (None unless it is usable), every problem."""

    records: list[Loaded] = field(default_factory=list)
    people: Loaded | None = None
    sources: Loaded | None = None
    metadata: dict[str, Any] | None = None
    assertions: Loaded | None = None
    problems: list[Problem] = field(default_factory=list)
    # each quote found in its source in other characters than the record writes it, as the source writes them, by
    # (record id, path of the quote): what the build publishes in place of the record's text
    quote_texts: dict[tuple[str, JsonPath], str] = field(default_factory=dict)
    files_checked: int = 0
    # the SHA-256 of the bytes each record file and source document was checked in (when known), by file: what the
    # build's manifest and key record, without reading the files again
    digests: dict[str, bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_record_files(layout: Layout, names: list[str], now: int = 0,
                       meanwhile: Callable[[bool], None] = lambda _: None) -> Generator[Compact, None, None]:
    """Every record file read and validated, compact, in the order of `names`, each as soon as it is: the per-file
    work, done here in one place so that it can be spread over processes or skipped for files that did not change.
    (`now`: when the check started, for cache.stat_key.) Nothing starts before the first is asked for.

    From MANY_FILES on, the files are spread over the cores, in one pool for all of them; each result comes back
    compact (no positions: a rule that later asks where something stands has the file read again). Below, a pool
    would cost more than it saves. `meanwhile` runs here once: told True for many files (while the workers work,
    where there are workers), False for few, before they are checked here."""
    if len(names) < MANY_FILES:
        meanwhile(False)
        yield from _check_compact(layout, now, names)
        return
    with suppress(Exception):  # compiled once, before the workers are forked (each file reports a broken schema)
        schema_verdict(layout.schema("record"))
    yield from each_in_workers(partial(_check_compact, layout, now), names, lambda: meanwhile(True))


def _check_compact(layout: Layout, now: int, names: list[str]) -> list[Compact]:
    return [check_compact(layout, relative, "record", now) for relative in names]


def _alone(problem: Problem) -> list[Problem]:
    return [problem]


def _nothing_but(problem: Problem) -> tuple[None, list[Problem]]:
    return None, [problem]


def _check_registry(layout: Layout, result: CheckResult, path: Path, schema: str, cache: CheckCache) -> Loaded:
    relative = layout.relative(path)
    unusable = input_file_problem(layout, path)
    if unusable:
        result.problems.append(unusable)
        return Loaded(relative)
    entry = cache.known(relative, str(layout.root))
    checked = (_kept(cache, check_compact(layout, relative, schema, cache.now), layout) if entry is None
               else _from_cache(layout, relative, entry, record=False))
    result.files_checked += 1
    result.problems.extend(checked.problems)
    # a registry with any problem is left out of the rules that need it, so that it hides nothing else
    return replace(checked.loaded, data=None) if checked.problems else checked.loaded
def _id_taken(layout: Layout, loaded: Loaded, problems: tuple[Problem, ...]) -> list[Problem]:
    """A record whose id is another record's file name is a duplicate id: say so, naming the other file."""
    if not any(problem.type == "id-mismatch" for problem in problems):  # nearly every record: its data is not read
        return list(problems)
    record_id = loaded.data.get("id") if isinstance(loaded.data, dict) else None
    other = f"records/{record_id}.yml"
    if not isinstance(record_id, str) or other == loaded.file or not (layout.root / other).is_file():
        return list(problems)
    return [Problem(p.file, p.line, p.col, "duplicate-id",
                    f"the id '{record_id}' is already the id of {other}; give this record its own id and name the file after it")
            if p.type == "id-mismatch" else p for p in problems]


@setting_aside()  # what the last check or build set aside (memory.py) is given back to the collector
def check_dataset(layout: Layout, *, cache: bool = False) -> CheckResult:
    """Every problem in the dataset, sorted by file, line and column, each reported once.

    With `cache`, what earlier checks found in files that have not changed since is reused, and what this one finds
    is kept, in build/cache/ (check/cache.py): faster, and the same result."""
    result = CheckResult()
    names, result.problems = record_files(layout)
    store = CheckCache.open(layout) if cache else CheckCache.off()
    if len(names) <= KEEP_BYTES_UP_TO:
        store.keep_bytes()
    unusable = schema_file_problems(layout, known_valid=store.schemas_valid)
    if unusable:  # nothing can be validated without its schema: say what is missing, once
        result.problems = sorted(set(result.problems) | set(unusable.values()))
        return result
    sources_read: list[SourcesRead | None] = []

    def registries_and_sources(many: bool) -> None:  # nothing of it needs the records: while they are checked
        result.people = _check_registry(layout, result, layout.people, "people", store)
        result.sources = _check_registry(layout, result, layout.source_registry, "sources", store)
        people, sources = result.people, result.sources
        sources_read.append(guarded(sources.file, lambda: read_listed(layout, people, sources, store, texts_made=many),
                                    lambda _: None))  # then read again by the rule, which says what failed

    for checked, digest in _record_checks(layout, names, store, registries_and_sources):
        result.files_checked += 1
        if digest is not None:
            result.digests[checked.loaded.file] = digest
        result.problems.extend(_id_taken(layout, checked.loaded, checked.problems))
        # Only a record in the schema's shape goes on to the rules across files. Other problems (an unquoted
        # date, a typo'd field name, a bad quote) leave it usable, so that one run reports every problem.
        if checked.in_shape:
            result.records.append(checked.loaded)
    give_back_free_memory()  # the records' marshalled bytes, freed as they were decoded (but those the cache keeps)
    people, sources = result.people, result.sources
    assert people is not None and sources is not None and sources_read, "check_record_files runs `meanwhile` once"
    complete = len(result.records) == len(names)
    record_ids = [name.rpartition("/")[2].removesuffix(".yml") for name in names]  # a name is ID.yml (files.py)
    # The rules across records read every record's references (and the data of the records they walk) and make
    # little garbage, but what they find (the quotes' texts) lives on: memory.py says why the collector is kept off both
    with lasting_objects():
        result.problems += guarded(sources.file, lambda: crossref_problems(layout, result.records, people, sources,
                                                                           complete=complete, record_ids=record_ids),
                                   _alone)
        result.problems += _quote_and_official_problems(layout, result, sources_read[0], store)
    _check_metadata(layout, result)
    # the least the build may publish: validated here with every other input, applied by the build
    result.assertions, problems = guarded(layout.relative(layout.assertions), lambda: load_assertions(layout),
                                          _nothing_but)
    result.problems += problems
    result.files_checked += layout.assertions.is_file()
    result.problems = capped(sorted(set(result.problems)))
    store.save()
    give_back_free_memory()  # what the stages made and dropped: the build goes on in this process
    return result


def _quote_and_official_problems(layout: Layout, result: CheckResult, read: SourcesRead | None,
                                 cache: CheckCache) -> list[Problem]:
    """The quotes looked for in their sources (result.quote_texts: those found in other characters), then, when the
    people registry is valid, the rule on officials. Records the cache has settled in this context are walked by
    neither: the cache has what the rule on officials found in them. The others are settled once both ran."""
    people, sources = result.people, result.sources
    assert people is not None and sources is not None
    forms: dict[str, list[str]] | None = None
    unusable: list[Problem] = []  # the forms, when making them failed
    if people.data is not None:  # names are looked up in the registry only when it is valid
        forms, unusable = guarded(people.file, lambda: (registered_forms(people), []), _nothing_but)
    provenance = guarded(sources.file, lambda: check_provenance(layout, result.records, people, sources, cache, read,
                                                                None if forms is None else forms_key(forms)),
                         lambda problem: Provenance([problem], {}))
    result.quote_texts = provenance.spans
    folder = layout.relative(layout.sources)
    result.digests.update((f"{folder}/{file}", digest) for file, digest in provenance.sources.items())
    if forms is None:
        return [*unusable, *provenance.problems]
    return provenance.problems + guarded(people.file, partial(_official_problems, result.records, forms, provenance,
                                                              cache), _alone)


def _official_problems(records: list[Loaded], forms: dict[str, list[str]], provenance: Provenance,
                       cache: CheckCache) -> list[Problem]:
    """The rule on officials, run on the records the quote rule walked; those it did not, the cache's problems. All
    of them, or (when it fails) none: the failure is then the one problem."""
    walked = [loaded for loaded in records if loaded.file not in provenance.settled]
    found = official_problems(walked, forms, provenance.found, cache)
    cache.settle(provenance.contexts)  # both rules ran on every record walked
    return [*found, *itertools.chain.from_iterable(provenance.settled.values())]


def _record_checks(layout: Layout, names: list[str], cache: CheckCache,
                   meanwhile: Callable[[bool], None]) -> Iterator[tuple[FileCheck, bytes | None]]:
    """Each record file checked, in the order of `names`, holding no positions (a rule that needs one reads the
    file again): from the cache when its bytes were checked before, else read and validated now; with the
    SHA-256 of those bytes (None when they were not all read). `meanwhile`: as check_record_files's."""
    found = _known(layout, names, cache)
    checked = check_record_files(layout, [name for name in names if name not in found], cache.now, meanwhile)
    try:
        first = next(checked, None)  # the workers started, and `meanwhile` run, before any record is given
        fresh = itertools.chain(() if first is None else (first,), checked)
        with lasting_objects():  # the records' data: millions of objects, kept as long as the check (memory.py)
            for name in names:
                if name in found:
                    entry = found.pop(name)
                    yield _from_cache(layout, name, entry, record=True), entry.digest
                    continue
                compact = next(fresh, None)
                if compact is None or compact.file != name:
                    raise RuntimeError(f"the per-file check gave {compact and compact.file!r} for {name!r}")
                # decoded now, while the workers check the next files: every rule across records reads it
                yield guarded(name, partial(_kept, cache, compact, layout, record=True), failed_check), compact.digest
        for _ in fresh:  # none is left: this ends the pool now (its threads would keep the rules' pools from forking)
            raise RuntimeError("the per-file check gave more results than it was given files")
    finally:
        checked.close()  # on an error, too: the workers stop at once, not after every file


def _known(layout: Layout, names: list[str], cache: CheckCache) -> dict[str, RecordEntry]:
    """What the cache knows of the files `names` that have the bytes it saw."""
    root = str(layout.root)
    if not cache.enabled or os.stat not in os.supports_dir_fd:
        return {name: entry for name in names if (entry := cache.known(name, root)) is not None}
    try:
        root_fd = os.open(root, os.O_RDONLY)
    except OSError:  # a root that cannot be opened: no file under it can be read either
        return {}
    try:
        return {name: entry for name in names if (entry := cache.known(name, root, root_fd)) is not None}
    finally:
        os.close(root_fd)


def _kept(cache: CheckCache, fresh: Compact, layout: Layout, *, record: bool = False) -> FileCheck:
    """A file checked now, restored (its data decoded), and kept in the cache (a `record` in the schema's shape with
    its references, made from its data when the cache is saved)."""
    restored = restore(fresh, layout.root)
    cache.put(fresh.digest, fresh.stat, (fresh.in_shape, fresh.read_problems, fresh.problems, restored.loaded), fresh.file,
              record=record and fresh.in_shape, marshalled=fresh.blob)
    return restored


def _from_cache(layout: Layout, name: str, entry: RecordEntry, *, record: bool) -> FileCheck:
    """A file checked before, as the cache has it: a record's data decoded only if something reads it."""
    problems = restored(entry.read_problems)
    loaded = (Undecoded.of(name, entry.data, entry.references and References._make(entry.references), problems,
                           layout.root) if record
              else Loaded(name, decoded(entry.data), NO_POSITIONS, NO_POSITIONS, NO_POSITIONS, problems, layout.root))
    return FileCheck(loaded, restored(entry.problems), entry.in_shape)


def capped(problems: list[Problem]) -> list[Problem]:
    """At most MAX_PER_FILE problems for each file, then one saying how many more: a runaway paste must not
    print megabytes. `problems` is sorted, so the first ones of each file are kept."""
    kept: list[Problem] = []
    count: Counter[str] = Counter()
    for problem in problems:
        count[problem.file] += 1
        if count[problem.file] <= MAX_PER_FILE:
            kept.append(problem)
    for file, total in count.items():
        if total > MAX_PER_FILE:
            kept.append(Problem(file, 0, 0, "too-many-problems", f"and {total - MAX_PER_FILE:,} more problems in this file "
                                "not shown; fix the ones above and validate again"))
    return sorted(kept)


def _check_metadata(layout: Layout, result: CheckResult) -> None:
    relative = layout.relative(layout.metadata)
    result.metadata, problems = guarded(relative, lambda: load_metadata(layout), _nothing_but)
    result.problems += problems
    if layout.metadata.is_file():  # counted like the registries: a missing file is a problem, not a file checked
        result.files_checked += 1


def load_assertions(layout: Layout) -> tuple[Loaded | None, list[Problem]]:
    """assertions.yml as read and validated against schema/assertions.schema.json, or None with its problems."""
    relative = layout.relative(layout.assertions)
    unusable = input_file_problem(layout, layout.assertions)
    if unusable:
        return None, [unusable]
    checked = check_file(layout, relative, "assertions")
    return (None if checked.problems else checked.loaded), list(checked.problems)
