"""An official's supporting quote must name them: a quote listed as supporting `officials.ID` must contain a form of
that person's name registered in registry/people.yml (for an official the sources do not name, the words of their
`as_written`), unless the official's `basis` says how the quote identifies them (for example "президент США" on a
day when the sources make Trump the president).

Without this, an official can be "supported" by a sentence about someone else, or by one that never names them.
Names are compared as whole words after `normalise` and case folding, so "Лукашенко" does not match inside
"Лукашенком" (which is registered as a form of its own).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Collection, Iterable
from functools import partial
from typing import Any

from belarus_releases.check.cache import CheckCache
from belarus_releases.check.characters import normalise
from belarus_releases.check.provenance import occurs_as_word
from belarus_releases.check.rules import official_key
from belarus_releases.check.workers import on_every_core
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.problems import JsonPath, Problem, at
from belarus_releases.record import entries, name_forms, quotes


def _comparable(text: str) -> str:
    return normalise(text).casefold()


def registered_forms(people: Loaded) -> dict[str, list[str]]:
    """Every registered form of every person's name (display names and variants), comparable, by person id."""
    # sorted: the same list in every process (a set's order is not), since the cache keys on it
    return {person["id"]: sorted({_comparable(form) for _, _, form, _ in name_forms(person)}, key=lambda f: (-len(f), f))
            for person in entries(people, "people")}


def forms_key(forms: dict[str, list[str]]) -> bytes:
    """The SHA-256 of every person's registered forms: what the rule's findings depend on in the registry."""
    return hashlib.sha256(repr(sorted(forms.items())).encode()).digest()


def names_any(text: str, forms: Iterable[str]) -> bool:
    """Whether `text` contains one of the (comparable) forms as a whole word or run of words."""
    return _names_in(_comparable(text), forms)


def _names_in(comparable: str, forms: Iterable[str]) -> bool:
    return any(occurs_as_word(form, comparable) for form in forms if form)


def official_problems(records: list[Loaded], forms: dict[str, list[str]], found: Collection[tuple[str, JsonPath]],
                      cache: CheckCache) -> list[Problem]:
    """Each quote that supports an official without naming them, for records in shape and a valid people registry
    (its `registered_forms`).

    Only quotes found in their source (`found`, by record file and path) are read: a quote with a typo or a bad
    character has that problem reported already, and one mistake gets one message. A record's problems come from
    the cache when neither it, nor which of its quotes were found, nor the forms of the people it names changed."""
    keys = [_depends_on(loaded, forms, found) if cache.enabled else None for loaded in records]
    known = [cache.officials(loaded.file, key) for loaded, key in zip(records, keys, strict=True)]
    pending = [number for number, problems in enumerate(known) if problems is None]
    # many records unknown to the cache (a first check): on every core, given what they need of each record
    unnamed = on_every_core(partial(_unnamed, forms), pending, lambda number: _pairs(records[number], forms, found))
    for number, reasons in zip(pending, unnamed, strict=True):
        loaded = records[number]
        problems = tuple(at(loaded.file, loaded.position(where), "official-not-named", message)
                         for where, message in reasons)
        known[number] = problems
        cache.put_officials(loaded.file, keys[number], problems)
    return [problem for problems in known for problem in problems or ()]


def _depends_on(loaded: Loaded, forms: dict[str, list[str]], found: Collection[tuple[str, JsonPath]]) -> Any:
    """What a record's problems depend on besides the record itself: the forms of the people it names, and which
    of its quotes were found."""
    record = loaded.data
    people = [forms.get(official["person"]) for official in record.get("officials", []) if "person" in official]
    return [people, [(loaded.file, path) in found for path, _, _ in quotes(record)]]


Pair = tuple[JsonPath, str, str | None, str, int, str]
"""A quote and an official it supports, as plain data: where the supports entry is, the quote's text, the person's
id (None for an official the sources do not name), their as_written, the official's number and fact."""


def _pairs(loaded: Loaded, forms: dict[str, list[str]], found: Collection[tuple[str, JsonPath]]) -> tuple[Pair, ...]:
    """Each quote that supports an official the rule reads, with that official, in order. Only quotes found in their
    source (`found`): a quote with a typo or a bad character has that problem reported already, and one mistake
    gets one message."""
    record = loaded.data
    officials = record.get("officials")
    if not officials:
        return ()
    quoted = [(path, quote["text"], quote["supports"]) for path, _, quote in quotes(record) if (loaded.file, path) in found]
    pairs: list[Pair] = []
    for number, official in enumerate(officials):
        if official.get("basis") or ("person" in official) == ("unnamed" in official):  # both: reported by rules.py
            continue
        if "person" in official and official["person"] not in forms:  # reported as unknown-person
            continue
        fact = f"officials.{official_key(official)}"
        person = official.get("person")
        written = "" if person is not None else official["as_written"]  # the schema requires it of an unnamed one
        pairs.extend(((*path, "supports", supports.index(fact)), text, person, written, number, fact)
                     for path, text, supports in quoted if fact in supports)
    return tuple(pairs)


def _unnamed(forms: dict[str, list[str]], pairs: tuple[Pair, ...]) -> tuple[tuple[JsonPath, str], ...]:
    """Where (the supports entry) and why each quote does not name the official it supports."""
    comparable = functools.cache(_comparable)  # a quote supporting several officials is made comparable once
    reasons = []
    for where, text, person, written, number, fact in pairs:
        if person is not None:
            words, missing = forms[person], "no registered form of the name occurs in it"
        else:
            words, missing = [comparable(written)], f"the words of as_written, '{written}', are not in it"
        if not _names_in(comparable(text), words):
            reasons.append((where, f"this quote supports '{fact}' but does not name them ({missing}); quote the sentence "
                                   f"that names them, or say in officials.{number}.basis how this quote identifies them"))
    return tuple(reasons)
