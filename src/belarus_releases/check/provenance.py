"""Provenance: every quote and every name form occurs verbatim in the source files it is tied to.

Comparison is after `normalise` (characters.py): Unicode (NFC), whitespace and the style of quote marks and
apostrophes, so «…», “…” and "…" match each other; letters, digits and dashes must be exact.
"""

from __future__ import annotations

import bisect
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from belarus_releases.check.cache import CheckCache, QuoteResult
from belarus_releases.check.characters import (
    LineIndex,
    decode_text,
    forbidden_characters,
    mixed_script_words,
    normalise,
    plain_quotes,
    scan_characters,
    too_large,
)
from belarus_releases.check.workers import MANY_RECORDS, over_shared
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.layout import Layout
from belarus_releases.problems import JsonPath, Problem, at
from belarus_releases.record import entries, name_forms, quotes, role_evidence, source_references

MAX_SOURCE_BYTES = 4 * 1024 * 1024
_LONG_WHITESPACE = re.compile(r"\s{2,}")  # \s: what str.isspace() calls whitespace


@dataclass(frozen=True)
class SourceText:
    """A source document as quotes are compared with it: its text (NFC) and the same text normalised, with what it
    takes to find where each normalised character came from, so that a matched quote can be published as the
    source's own words."""

    original: str
    normal: str
    # Each run of whitespace inside the text is one space in `normal`: `breaks` holds where, in `normal`, each run
    # of two or more ends, and `offsets` how far `original` is ahead of `normal` before the first break and after
    # each one.
    breaks: tuple[int, ...]
    offsets: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> SourceText:
        original = unicodedata.normalize("NFC", text)
        marked = plain_quotes(original)
        leading = len(marked) - len(marked.lstrip())  # whitespace before the text is dropped
        breaks: list[int] = []
        offsets = [leading]
        # Only a run of two or more whitespace characters moves `original` ahead (a single one is one space), so
        # only those are walked: a source of tens of kilobytes has a few hundred.
        for run in _LONG_WHITESPACE.finditer(marked, leading):
            start, end = run.span()
            if end < len(marked):  # whitespace after the text is dropped, and nothing of `normal` follows it
                breaks.append(start - offsets[-1] + 1)
                offsets.append(offsets[-1] + end - start - 1)
        return cls(original, " ".join(marked.split()), tuple(breaks), tuple(offsets))  # split: at str.isspace()

    def origin(self, index: int) -> int:
        """The index in `original` of normal[index]."""
        return index + self.offsets[bisect.bisect_right(self.breaks, index)]

    def span(self, quote: str) -> str | None:
        """The source's own text for a normalised quote: its quote marks, line breaks and spacing."""
        start = self.normal.find(quote) if quote else -1
        if start < 0:
            return None
        return self.original[self.origin(start):self.origin(start + len(quote) - 1) + 1]


@dataclass(frozen=True)
class Provenance:
    """What checking quotes against sources found: problems, and each found quote's text as the source has it,
    by (record id, path of the quote)."""

    problems: list[Problem]
    spans: dict[tuple[str, JsonPath], str]
_EMPTY_SOURCE = "the source document is empty; copy the article's text into it"


class SourceTexts:
    """The source documents that read cleanly, by file name: the SHA-256 of each one's bytes, and its text as quotes
    are compared with it, made only when first asked for (most quotes' results are in the cache)."""

    def __init__(self) -> None:
        self.digests: dict[str, bytes] = {}
        self._read: dict[str, tuple[str, bytes, str | None]] = {}  # file name: (path shown, bytes, text when read)
        self._texts: dict[str, SourceText] = {}

    def add(self, file: str, name: str, raw: bytes, digest: bytes, text: str | None) -> None:
        self.digests[file] = digest
        self._read[file] = (name, raw, text)

    def __contains__(self, file: object) -> bool:
        return file in self.digests

    def text(self, file: str) -> SourceText:
        if file not in self._texts:
            name, raw, text = self._read[file]
            self._texts[file] = SourceText.of(text if text is not None else source_text(raw, name)[0] or "")
        return self._texts[file]


def read_sources(layout: Layout, files: list[str], sources: Loaded,
                 cache: CheckCache | None = None) -> tuple[SourceTexts, list[Problem]]:
    """Each source file that reads cleanly, and the problems of those that do not.

    Sources are read as strictly as records: a bad byte, a byte-order mark, UTF-16, an empty file or a hidden
    character is reported on the source itself, instead of as quotes that seem not to match it."""
    cache = cache or CheckCache.off()
    texts = SourceTexts()
    problems: list[Problem] = []
    registered: dict[str, list[tuple[int, str]]] = {}
    for number, entry in enumerate(entries(sources, "sources")):
        registered.setdefault(entry["file"], []).append((number, entry["sha256"]))
    for file in files:
        path = layout.source_file(file)
        if path is None:
            continue
        name = layout.relative(path)
        if path.stat().st_size > MAX_SOURCE_BYTES:
            problems.append(too_large(name, path.stat().st_size, MAX_SOURCE_BYTES, "keep only the article's text"))
            continue
        raw = path.read_bytes()
        digest = hashlib.sha256(raw).digest()
        known = cache.source(name, digest)
        text, unreadable = (None, list(known)) if known is not None else source_text(raw, name)
        if known is None:
            cache.put_source(name, digest, unreadable)
        changed = [] if unreadable else list(_changed(sources, registered.get(file, []), file, digest.hex()))
        problems += unreadable + changed
        if not unreadable:
            texts.add(file, name, raw, digest, text)
    return texts, problems


def source_text(raw: bytes, name: str) -> tuple[str | None, list[Problem]]:
    """A source document's text, or None with its problems: the one rule for reading sources, which `validate`
    and `add-source` share. UTF-8 without byte-order mark, not empty, under the size cap, no hidden character."""
    text, problems = decode_text(raw, name, limit=MAX_SOURCE_BYTES, empty=_EMPTY_SOURCE,
                                 too_long="keep only the article's text")
    problems += scan_characters(LineIndex(text), name) if text is not None else []
    return (None if problems else text), problems


def _changed(sources: Loaded, registered: list[tuple[int, str]], file: str, digest: str) -> Iterator[Problem]:
    """The document no longer has the SHA-256 its registry entries record (checked once it reads cleanly)."""
    for number, sha256 in registered:
        if sha256 != digest:
            yield at(sources.file, sources.position(("sources", number, "sha256")), "source-changed",
                     f"sources/{file} no longer has the sha256 written here; a source document never changes: restore "
                     "it from the main branch, or add the new version with `belarus-releases add-source`")


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


def _checked_quotes(record: Loaded, texts: SourceTexts, before: tuple[QuoteResult, ...]) -> QuoteCheck:
    """Quotes not found in their source. A quote whose record and source have not changed since the last check
    has its result from `before` (the cache's)."""
    digests = texts.digests
    results: list[QuoteResult] = []
    problems: list[Problem] = []
    reused = 0
    for number, (path, file, quote) in enumerate(quotes(record.data)):
        digest = digests.get(file)
        if digest is None:
            results.append((b"", None, None))  # an unreadable source has its own problem
            continue
        known = before[number] if number < len(before) and before[number][0] == digest else None
        reused += known is not None
        result = known or _look_for(quote["text"], file, texts.text(file), digest)
        results.append(result)
        if result[1] is None and result[2] is not None:
            problems.append(at(record.file, record.position((*path, "text")), "quote-not-found", result[2]))
    return tuple(results), problems, reused == len(results) == len(before)


def _quote_checks(records: list[Loaded], texts: SourceTexts, cache: CheckCache) -> list[QuoteCheck]:
    """Every record's quotes checked, in order: those of records the cache knows nothing of on every core when
    there are many (the workers inherit the records and the source texts, made here first)."""
    fresh = [number for number, record in enumerate(records) if cache.quotes(record.file) is None]
    spread: dict[int, QuoteCheck] = {}
    if len(fresh) >= MANY_RECORDS:
        for file in {file for number in fresh for file, _ in source_references(records[number].data) if file in texts}:
            texts.text(file)
        done = over_shared(_check_some, (records, texts, fresh), len(fresh))
        spread = dict(zip(fresh, done, strict=True)) if done is not None else {}
    return [spread[number] if number in spread else _checked_quotes(record, texts, cache.quotes(record.file) or ())
            for number, record in enumerate(records)]


def _check_some(shared: tuple[list[Loaded], SourceTexts, list[int]], numbers: list[int]) -> list[QuoteCheck]:
    records, texts, fresh = shared
    return [_checked_quotes(records[fresh[number]], texts, ()) for number in numbers]


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


def check_provenance(layout: Layout, records: list[Loaded], people: Loaded, sources: Loaded,
                     cache: CheckCache | None = None) -> Provenance:
    """Quotes against their source files; name forms and role evidence too when the people registry is valid.

    Quotes are checked against any safe file under sources/, listed or not, so that a registry mistake hides nothing."""
    cache = cache or CheckCache.off()
    listed = [entry["file"] for entry in entries(sources, "sources")]
    cited = [file for record in records for file, _ in source_references(record.data)]
    texts, unreadable = read_sources(layout, sorted(set(listed + cited)), sources, cache)
    spans: dict[tuple[str, JsonPath], str] = {}
    paths: dict[JsonPath, JsonPath] = {}
    problems = list(unreadable)
    for record, (results, found, unchanged) in zip(records, _quote_checks(records, texts, cache), strict=True):
        if not unchanged:
            cache.put_quotes(record.file, results)
        problems += found
        record_id = record.data["id"]
        for (path, _, quote), (_, span, _) in zip(quotes(record.data), results, strict=True):
            if span is not None:
                # one tuple for each path, however many records have it: hundreds of thousands of quotes
                spans[(record_id, paths.setdefault(path, path))] = quote["text"] if span is True else str(span)
    # name forms are looked for in every listed source: both registries must be valid and every source readable
    if people.data and sources.data and not unreadable:
        problems.extend(_cached_people_problems(layout, people, [file for file in listed if file in texts], texts, cache))
    return Provenance(problems, spans)


def _cached_people_problems(layout: Layout, people: Loaded, listed: list[str], texts: SourceTexts,
                            cache: CheckCache) -> list[Problem]:
    """The registry's name problems, from the cache when neither the registry nor a listed source has changed."""
    try:
        raw = layout.people.read_bytes() if cache.enabled else b""
    except OSError:
        raw = b""
    # Its data and positions as read, and its bytes now: a registry edited meanwhile gets a key no check reuses.
    read = repr((people.file, people.data, dict(people.values), dict(people.keys), [(f, texts.digests[f]) for f in listed]))
    key = hashlib.sha256(read.encode() + b"\0" + raw).digest()
    found = cache.people_problems(key) if raw else None
    if found is None:
        found = tuple(_people_problems(people, {file: texts.text(file) for file in listed}))
        if raw:
            cache.put_people_problems(key, found)
    return list(found)
