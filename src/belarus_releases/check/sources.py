"""Source documents as provenance reads them: each read as strictly as a record (bytes, characters, size), its
SHA-256 against the registry's, and its text as quotes are compared with it.

Comparison is after `normalise` (characters.py): Unicode (NFC), whitespace and the style of quote marks and
apostrophes, so «…», “…” and "…" match each other; letters, digits and dashes must be exact.
"""

from __future__ import annotations

import bisect
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from belarus_releases.check.cache import CheckCache
from belarus_releases.check.characters import LineIndex, decode_text, plain_quotes, scan_characters, too_large
from belarus_releases.check.per_file import ChangedWhileChecked
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem, at
from belarus_releases.record import entries

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


_EMPTY_SOURCE = "the source document is empty; copy the article's text into it"


class SourceTexts:
    """The source documents that read cleanly, by file name: the SHA-256 of each one's bytes, and its text as quotes
    are compared with it, made only when first asked for (most quotes' results are in the cache)."""

    def __init__(self) -> None:
        self.digests: dict[str, bytes] = {}
        self._read: dict[str, tuple[bytes | Path, str | None]] = {}  # file name: (bytes or path, text when read)
        self._texts: dict[str, SourceText] = {}

    def add(self, file: str, raw: bytes | Path, digest: bytes, text: str | None) -> None:
        self.digests[file] = digest
        self._read[file] = (raw, text)

    def __contains__(self, file: object) -> bool:
        return file in self.digests

    def joined(self, more: SourceTexts) -> SourceTexts:
        """These documents and `more`'s, as a new set (neither is changed)."""
        joined = SourceTexts()
        for part in (more, self):
            joined.digests.update(part.digests)
            joined._read.update(part._read)
            joined._texts.update(part._texts)
        return joined

    def text(self, file: str) -> SourceText:
        if file not in self._texts:
            raw, text = self._read[file]
            # text is None when the cache knew these bytes read cleanly: decoding them again is all it takes (and
            # reading them, when it knew them by the file's status)
            if text is None:
                text = (raw if isinstance(raw, bytes) else _bytes_known(raw, self.digests[file])).decode("utf-8")
            self._texts[file] = SourceText.of(text)
        return self._texts[file]


def _bytes_known(path: Path, digest: bytes) -> bytes:
    """The bytes of a source document the check knew by its status, read now: those it knew, or the document changed
    while the check ran, which is said (quotes are never looked for in other bytes than those the build publishes)."""
    raw = path.read_bytes()
    if hashlib.sha256(raw).digest() != digest:
        raise ChangedWhileChecked(Problem(f"{path.parent.name}/{path.name}", 0, 0, "source-changed",
                                          "this document changed while it was checked; a source document never "
                                          "changes: restore it, or add the new version with `belarus-releases "
                                          "add-source`"))
    return raw


def read_sources(layout: Layout, files: list[str], sources: Loaded,
                 cache: CheckCache) -> tuple[SourceTexts, list[Problem]]:
    """Each source file that reads cleanly, and the problems of those that do not.

    Sources are read as strictly as records: a bad byte, a byte-order mark, UTF-16, an empty file or a hidden
    character is reported on the source itself, instead of as quotes that seem not to match it."""
    texts = SourceTexts()
    problems: list[Problem] = []
    registered: dict[str, list[tuple[int, str]]] = {}
    for number, entry in enumerate(entries(sources, "sources")):
        registered.setdefault(entry["file"], []).append((number, entry["sha256"]))
    folder = layout.relative(layout.sources)
    for file in files:
        status = layout.source_status(file)
        if status is None:
            continue
        name, path = f"{folder}/{file}", layout.sources / file
        if status.st_size > MAX_SOURCE_BYTES:
            problems.append(too_large(name, status.st_size, MAX_SOURCE_BYTES, "keep only the article's text"))
            continue
        digest, unreadable, raw, text = _read_source(path, name, status, cache)
        changed = [] if unreadable else list(_changed(sources, registered.get(file, []), file, digest.hex()))
        problems += unreadable + changed
        if not unreadable:
            texts.add(file, raw, digest, text)
    return texts, problems


def _read_source(path: Path, name: str, status: os.stat_result,
                 cache: CheckCache) -> tuple[bytes, list[Problem], bytes | Path, str | None]:
    """A source document's SHA-256, problems, bytes (or its path, when the cache knew them by the file's status:
    read when a quote is looked for in it) and text (None: the cache knew these bytes read cleanly, or they do
    not)."""
    known = cache.known_source(name, status)
    if known is not None:
        return known[0], list(known[1]), path, None
    raw = path.read_bytes()
    digest = hashlib.sha256(raw).digest()
    before = cache.source(name, digest, status)
    if before is not None:
        return digest, list(before), raw, None
    text, unreadable = source_text(raw, name)
    cache.put_source(name, digest, unreadable, status)
    return digest, unreadable, raw, text


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
