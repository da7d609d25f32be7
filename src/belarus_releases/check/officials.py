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
from collections.abc import Collection, Iterable, Iterator
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


def names_any(text: str, forms: Iterable[str]) -> bool:
    """Whether `text` contains one of the (comparable) forms as a whole word or run of words."""
    return _names_in(_comparable(text), forms)


def _names_in(comparable: str, forms: Iterable[str]) -> bool:
    return any(occurs_as_word(form, comparable) for form in forms if form)


def official_problems(records: list[Loaded], people: Loaded, found: Collection[tuple[str, JsonPath]],
                      cache: CheckCache) -> list[Problem]:
    """Each quote that supports an official without naming them, for records in shape and a valid people registry.

    Only quotes found in their source (`found`, by record id and path) are read: a quote with a typo or a bad
    character has that problem reported already, and one mistake gets one message. A record's problems come from
    the cache when neither it, nor which of its quotes were found, nor the forms of the people it names changed."""
    forms = registered_forms(people)
    keys = [_depends_on(loaded.data, forms, found) if cache.enabled else None for loaded in records]
    known = [cache.officials(loaded.file, key) for loaded, key in zip(records, keys, strict=True)]
    pending = [number for number, problems in enumerate(known) if problems is None]
    # many records unknown to the cache (a first check): on every core, the workers inheriting what they read
    fresh = on_every_core(lambda number: tuple(_record_problems(records[number], forms, found)), pending,
                          records=len(records))
    for number, problems in zip(pending, fresh, strict=True):
        known[number] = problems
        cache.put_officials(records[number].file, keys[number], problems)
    return [problem for problems in known for problem in problems or ()]


def _depends_on(record: dict[str, Any], forms: dict[str, list[str]], found: Collection[tuple[str, JsonPath]]) -> Any:
    """What a record's problems depend on besides the record itself: the forms of the people it names, and which
    of its quotes were found."""
    people = [forms.get(official["person"]) for official in record.get("officials", []) if "person" in official]
    return [people, [(record["id"], path) in found for path, _, _ in quotes(record)]]


def _record_problems(loaded: Loaded, forms: dict[str, list[str]], found: Collection[tuple[str, JsonPath]]) -> Iterator[Problem]:
    record: dict[str, Any] = loaded.data
    comparable = functools.cache(_comparable)  # a quote supporting several officials is made comparable once
    for number, official in enumerate(record.get("officials", [])):
        if official.get("basis") or ("person" in official) == ("unnamed" in official):  # both: reported by rules.py
            continue
        if "person" in official:
            if official["person"] not in forms:  # an unknown person is reported as unknown-person
                continue
            words, missing = forms[official["person"]], "no registered form of the name occurs in it"
        else:
            written = official["as_written"]
            words, missing = [_comparable(written)], f"the words of as_written, '{written}', are not in it"
        fact = f"officials.{official_key(official)}"
        for path, _, quote in quotes(record):
            if fact not in quote["supports"] or (record["id"], path) not in found:
                continue
            if not _names_in(comparable(quote["text"]), words):
                where = loaded.position((*path, "supports", quote["supports"].index(fact)))
                yield at(loaded.file, where, "official-not-named",
                         f"this quote supports '{fact}' but does not name them ({missing}); quote the sentence that "
                         f"names them, or say in officials.{number}.basis how this quote identifies them")
