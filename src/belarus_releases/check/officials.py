"""An official's supporting quote must name them: a quote listed as supporting `officials.ID` must contain a form of
that person's name registered in registry/people.yml (for an official the sources do not name, the words of their
`as_written`), unless the official's `basis` says how the quote identifies them (for example "президент США" on a
day when the sources make Trump the president).

Without this, an official can be "supported" by a sentence about someone else, or by one that never names them.
Names are compared as whole words after `normalise` and case folding, so "Лукашенко" does not match inside
"Лукашенком" (which is registered as a form of its own).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Iterator
from typing import Any

from belarus_releases.check.characters import normalise
from belarus_releases.check.rules import official_key
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.problems import JsonPath, Problem, at
from belarus_releases.record import entries, name_forms, quotes


def _comparable(text: str) -> str:
    return normalise(text).casefold()


def registered_forms(people: Loaded) -> dict[str, list[str]]:
    """Every registered form of every person's name (display names and variants), comparable, by person id."""
    return {person["id"]: sorted({_comparable(form) for _, _, form, _ in name_forms(person)}, key=len, reverse=True)
            for person in entries(people, "people")}


def names_any(text: str, forms: Iterable[str]) -> bool:
    """Whether `text` contains one of the (comparable) forms as a whole word or run of words."""
    comparable = _comparable(text)
    return any(re.search(rf"(?<!\w){re.escape(form)}(?!\w)", comparable) for form in forms if form)


def official_problems(records: list[Loaded], people: Loaded, found: Collection[tuple[str, JsonPath]]) -> list[Problem]:
    """Each quote that supports an official without naming them, for records in shape and a valid people registry.

    Only quotes found in their source (`found`, by record id and path) are read: a quote with a typo or a bad
    character has that problem reported already, and one mistake gets one message."""
    forms = registered_forms(people)
    return [problem for loaded in records for problem in _record_problems(loaded, forms, found)]


def _record_problems(loaded: Loaded, forms: dict[str, list[str]], found: Collection[tuple[str, JsonPath]]) -> Iterator[Problem]:
    record: dict[str, Any] = loaded.data
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
            if not names_any(quote["text"], words):
                where = loaded.position((*path, "supports", quote["supports"].index(fact)))
                yield at(loaded.file, where, "official-not-named",
                         f"this quote supports '{fact}' but does not name them ({missing}); quote the sentence that "
                         f"names them, or say in officials.{number}.basis how this quote identifies them")
