"""Provenance: every quote and every name form occurs verbatim in the source files it is tied to (read by
sources.py).

Comparison is after `normalise` (characters.py): Unicode (NFC), whitespace and the style of quote marks and
apostrophes, so «…», “…” and "…" match each other; letters, digits and dashes must be exact.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from belarus_releases.check.cache import CheckCache, QuoteResult
from belarus_releases.check.characters import (
    forbidden_characters,
    mixed_script_words,
    normalise,
)
from belarus_releases.check.sources import SourceText, SourceTexts, read_sources
from belarus_releases.check.workers import on_every_core
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.layout import Layout
from belarus_releases.problems import JsonPath, Problem, at
from belarus_releases.record import cited_files, entries, name_forms, quotes, role_evidence

RulesContext = tuple[bytes, tuple[bytes | None, ...]]
"""What the quote and official rules find in a record depends on besides the record: the people's name forms (their
digest), and the bytes (the SHA-256) of each source the record cites, in order (None: not read)."""


@dataclass(frozen=True)
class Provenance:
    """What checking quotes against sources found: problems; the text of each quote found in its source in other
    characters than the record writes it (quote marks, spaces), as the source writes them, by (record id, path of
    the quote); every quote found, of the records walked, by (record file, path); the records not walked
    (`settled`), with the problems the rule on officials found in them, which it would find again; the context
    of each record walked, by file, when the rule on officials is to run; and the SHA-256 of each source document
    read, by file name."""

    problems: list[Problem]
    spans: dict[tuple[str, JsonPath], str]
    found: set[tuple[str, JsonPath]] = field(default_factory=set)
    settled: dict[str, tuple[Problem, ...]] = field(default_factory=dict)
    contexts: dict[str, RulesContext] = field(default_factory=dict)
    sources: dict[str, bytes] = field(default_factory=dict)


def mismatch(quote: str, source: str) -> str:
    """Where a quote stops matching the source, said so that the contributor can find the typo."""
    low, high = 0, len(quote)
    while low < high:  # longest prefix of the quote that occurs in the source
        middle = (low + high + 1) // 2
        if quote[:middle] in source:
            low = middle
        else:
            high = middle - 1
    if low < 8:
        return "not even its first words occur in the source"
    start = source.find(quote[:low])
    found = source[start + low:start + low + 12]
    return (f"it matches the source up to «{quote[max(0, low - 20):low]}», then has «{quote[low:low + 12]}» "
            f"where the source has «{found}»")


def already_reported(value: str) -> bool:
    """A quote with a forbidden character, a mixed-script word or no words at all has its problem reported already;
    saying also that it is not in the source would be a second message for one mistake."""
    return bool(forbidden_characters(value) or mixed_script_words(value)) or not any(char.isalnum() for char in value)


QuoteCheck = tuple[tuple[QuoteResult, ...], list[Problem], bool]
"""A record's quotes looked for in their sources: a result for each quote, in order, the problems, and whether
every result is the one the cache had (then there is nothing new to keep)."""


def _checked_quotes(record: Loaded, texts: SourceTexts, known: tuple[QuoteResult, ...], *, cached: bool) -> QuoteCheck:
    """Quotes not found in their source. A quote whose source has not changed since `known` was found (the cache's
    results when `cached`, else this check's, from the workers or from this process) has its result from it; any
    other is looked for now."""
    digests = texts.digests
    results: list[QuoteResult] = []
    problems: list[Problem] = []
    reused = 0
    for number, (path, file, quote) in enumerate(quotes(record.data)):
        digest = digests.get(file)
        before = known[number] if digest is not None and number < len(known) and known[number][0] == digest else None
        reused += before is not None
        result = before or _result(texts, file, quote["text"])
        results.append(result)
        if result[1] is None and result[2] is not None:
            problems.append(at(record.file, record.position((*path, "text")), "quote-not-found", result[2]))
    return tuple(results), problems, cached and reused == len(results) == len(known)


def _quote_checks(records: list[Loaded], texts: SourceTexts, cache: CheckCache) -> list[QuoteCheck]:
    """Every record's quotes checked, in order: those of records the cache knows nothing of on every core when
    there are many (the workers are given each quote's source and text; they inherit the source texts, made here
    first)."""
    before = [cache.quotes(record.file) for record in records]  # each made from the cache's columns: once
    fresh = [number for number, known in enumerate(before) if known is None]
    for file in {file for number in fresh for file in cited_files(records[number]) if file in texts}:
        texts.text(file)  # made here, before any fork, so that workers share them
    found = dict(zip(fresh, on_every_core(partial(_looked_for, texts), fresh, lambda number: _quoted(records[number])),
                     strict=True))
    return [_checked_quotes(record, texts, found[number], cached=False) if number in found
            else _checked_quotes(record, texts, before[number] or (), cached=True)
            for number, record in enumerate(records)]


def _quoted(record: Loaded) -> tuple[tuple[str, str], ...]:
    """Each quote of the record as its source's file and its text: what the workers are given (plain data)."""
    return tuple((file, quote["text"]) for _, file, quote in quotes(record.data))


def _looked_for(texts: SourceTexts, quoted: tuple[tuple[str, str], ...]) -> tuple[QuoteResult, ...]:
    """Each quote's result, given its source's file and its text."""
    return tuple(_result(texts, file, text) for file, text in quoted)


def _result(texts: SourceTexts, file: str, text: str) -> QuoteResult:
    digest = texts.digests.get(file)
    if digest is None:
        return b"", None, None  # an unreadable source has its own problem
    return _look_for(text, file, texts.text(file), digest)


def _look_for(text: str, file: str, source: SourceText, digest: bytes) -> QuoteResult:
    wanted = normalise(text)
    found = source.span(wanted)
    if found is not None:
        return digest, True if found == text else found, None  # True: no second copy of the same text
    if already_reported(text):
        return digest, None, None
    return digest, None, f"the quote does not occur in sources/{file}: {mismatch(wanted, source.normal)}"


_WORD = re.compile(r"\w")


def occurs_as_word(words: str, text: str) -> bool:
    r"""Whether `words` occurs in `text` with no word character just before or just after it: what
    `re.search(rf"(?<!\w){re.escape(words)}(?!\w)", text)` finds, but with the substring search, which skips
    ahead where the pattern would try every position (1,200 name forms in 870 sources: 0.15 s instead of 7 s)."""
    start = text.find(words)
    while start >= 0:
        end = start + len(words)
        if not (start and _WORD.match(text, start - 1)) and not (end < len(text) and _WORD.match(text, end)):
            return True
        start = text.find(words, start + 1)
    return False


def _people_problems(people: Loaded, sources: dict[str, SourceText]) -> Iterator[Problem]:
    texts = {file: source.normal for file, source in sources.items()}
    everything = "\n".join(texts.values())
    owner: dict[str, str] = {}
    for p, person in enumerate(entries(people, "people")):
        unfound = False
        for path, _lang, form, kind in name_forms(person):
            if path == ("name", "en"):
                continue  # the canonical English name is not how the Russian and Ukrainian sources write it
            where = (p, *path)  # located only for a problem: the registry may have to be read again for it
            key = normalise(form).casefold()
            if owner.setdefault(key, person["id"]) != person["id"]:
                yield at(people.file, people.position(("people", *where)), "ambiguous-name",
                         f"'{form}' is also listed for '{owner[key]}'")
            if kind != "editorial" and not occurs_as_word(normalise(form), everything):
                unfound = True
                yield at(people.file, people.position(("people", *where)), "variant-not-found",
                         f"'{form}' does not occur as a word in any source file")
        if not unfound:  # while a source form is mistyped, what the editorial forms render is not checked against it
            yield from _editorial_problems(people, p, person)
        for path, evidence in role_evidence(person):
            text = texts.get(evidence["file"])
            wanted = normalise(evidence["text"])
            if text is not None and wanted not in text:
                yield at(people.file, people.position(("people", p, *path, "text")), "quote-not-found",
                         f"the quote does not occur in sources/{evidence['file']}: {mismatch(wanted, text)}")


def _editorial_problems(people: Loaded, number: int, person: dict[str, Any]) -> Iterator[Problem]:
    """An editorial form is in no source by definition; what it renders (`from`) must be one of the person's forms
    that the sources use."""
    attested = {normalise(form) for path, _, form, kind in name_forms(person) if kind != "editorial" and path != ("name", "en")}
    for position, variant in enumerate(person.get("variants", [])):
        if variant.get("kind") == "editorial" and normalise(variant["from"]) not in attested:
            yield at(people.file, people.position(("people", number, "variants", position, "from")), "variant-not-found",
                     f"'{variant['from']}' is not one of this person's name forms from the sources; an editorial form "
                     "must render one of them: copy it from the name or variants")


@dataclass(frozen=True)
class SourcesRead:
    """What provenance needs of the sources before any record: the listed documents read (each text made too when
    `read_listed` was told many records will need them), the problems of those that do not read, and the people
    registry's name problems (None unless both registries are valid and every listed source reads)."""

    listed: list[str]
    texts: SourceTexts
    unreadable: list[Problem]
    names: list[Problem] | None


def read_listed(layout: Layout, people: Loaded, sources: Loaded, cache: CheckCache, *, texts_made: bool) -> SourcesRead:
    """The listed sources read, and the name forms looked for in them: none of it depends on the records, so the
    check does it while its workers check the record files."""
    listed = [entry["file"] for entry in entries(sources, "sources")]
    texts, unreadable = read_sources(layout, sorted(set(listed)), sources, cache)
    if texts_made:
        for file in listed:
            if file in texts:
                texts.text(file)
    names = None
    # name forms are looked for in every listed source: both registries must be valid and every source readable
    if people.data and sources.data and not unreadable:
        names = _cached_people_problems(layout, people, [file for file in listed if file in texts], texts, cache)
    return SourcesRead(listed, texts, unreadable, names)


def check_provenance(layout: Layout, records: list[Loaded], people: Loaded, sources: Loaded,
                     cache: CheckCache, read: SourcesRead | None = None, names: bytes | None = None) -> Provenance:
    """Quotes against their source files; name forms and role evidence too when the people registry is valid.
    `read`: what read_listed gave for these registries, when it ran before. `names`: the digest of the people's
    name forms (officials.forms_key), when the rule on officials will run: then a record the cache has `settled` in
    the same context (RulesContext) is not walked.

    Quotes are checked against any safe file under sources/, listed or not, so that a registry mistake hides nothing."""
    read = read or read_listed(layout, people, sources, cache, texts_made=False)
    cited = [cited_files(record) for record in records]
    unlisted = sorted(set(itertools.chain.from_iterable(cited)) - set(read.listed))
    texts, unreadable = read.texts, list(read.unreadable)
    if unlisted:  # a mistake in the registry, reported with it: rare
        more, more_unreadable = read_sources(layout, unlisted, sources, cache)
        texts, unreadable = texts.joined(more), unreadable + more_unreadable
    settled: dict[str, tuple[Problem, ...]] = {}
    contexts: dict[str, RulesContext] = {}
    shared: dict[RulesContext, RulesContext] = {}  # one object for records of one context: stored once in the cache
    walked: list[Loaded] = []
    for record, files in zip(records, cited, strict=True):
        context = None if names is None else (names, tuple(texts.digests.get(file) for file in files))
        kept = None if context is None else cache.settled(record.file, context)
        if kept is not None:
            settled[record.file] = kept
            continue
        walked.append(record)
        if context is not None:
            contexts[record.file] = shared.setdefault(context, context)
    spans: dict[tuple[str, JsonPath], str] = {}
    found: set[tuple[str, JsonPath]] = set()
    paths: dict[JsonPath, JsonPath] = {}
    problems = list(unreadable)
    for record, (results, missing, unchanged) in zip(walked, _quote_checks(walked, texts, cache), strict=True):
        if not unchanged:
            cache.put_quotes(record.file, results)
        problems += missing
        record_id = record.data["id"]
        for (path, _, _), (_, span, _) in zip(quotes(record.data), results, strict=True):
            if span is not None:
                # one tuple for each path, however many records have it: hundreds of thousands of quotes
                shared_path = paths.setdefault(path, path)
                found.add((record.file, shared_path))
                if span is not True:
                    spans[(record_id, shared_path)] = str(span)
    if read.names is not None and not unreadable:
        problems.extend(read.names)
    return Provenance(problems, spans, found, settled, contexts, texts.digests)


def _cached_people_problems(layout: Layout, people: Loaded, listed: list[str], texts: SourceTexts,
                            cache: CheckCache) -> list[Problem]:
    """The registry's name problems, from the cache when neither the registry nor a listed source has changed."""
    try:
        raw = layout.people.read_bytes() if cache.enabled else b""
    except OSError:
        raw = b""
    def found_now() -> tuple[Problem, ...]:
        return tuple(_people_problems(people, {file: texts.text(file) for file in listed}))

    if not raw:  # no cache, or no bytes to key it on: nothing to look up or keep
        return list(found_now())
    # Its data and positions as read, and its bytes now: a registry edited meanwhile gets a key no check reuses.
    read = repr((people.file, people.data, dict(people.values), dict(people.keys), [(f, texts.digests[f]) for f in listed]))
    key = hashlib.sha256(read.encode() + b"\0" + raw).digest()
    found = cache.people_problems(key)
    if found is None:
        found = found_now()
        cache.put_people_problems(key, found)
    return list(found)
