"""Every form of a registered person's name that occurs in the sources resolves to that one person.

The sources inflect names (Коул, Коула, Коулом; Лукашенко, Лукашенком) and spell one envoy two ways
(Коул, Коулл). Each word in a source that starts like a registered surname must be listed among that
person's name forms, so that search and readers find the person from any of them.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from belarus_releases.check.provenance import normalise
from belarus_releases.layout import Layout
from belarus_releases.record import name_forms

WORD = re.compile(r"[А-ЯЁІЇЄҐA-Z][\w'’]+")


def people(layout: Layout) -> list[dict[str, Any]]:
    return list(yaml.safe_load(layout.people.read_text(encoding="utf-8"))["people"])


def forms(person: dict[str, Any]) -> list[str]:
    """The Cyrillic display names first, then every variant (English is not a form the sources use)."""
    return [text for _, lang, text, _ in name_forms(person) if lang != "en"]


def surname_stems(person: dict[str, Any]) -> set[str]:
    """The surname of each Cyrillic display name, less a two-letter case ending (Лукашенко → Лукашен)."""
    return {name.split()[-1][: max(4, len(name.split()[-1]) - 2)] for name in forms(person)[:3] if " " in name}


def test_every_surname_form_in_the_sources_resolves_to_one_person(real: Layout) -> None:
    text = normalise(" ".join(path.read_text(encoding="utf-8") for path in sorted(real.sources.glob("*.txt"))))
    words = set(WORD.findall(text))
    unresolved, ambiguous = [], []
    registry = people(real)
    for person in registry:
        listed = {word for form in forms(person) for word in normalise(form).split()}
        for stem in surname_stems(person):
            for word in sorted(w for w in words if w.startswith(stem)):
                if word not in listed:
                    unresolved.append(f"{word} ({person['id']})")
                owners = [p["id"] for p in registry if word in {w for f in forms(p) for w in normalise(f).split()}]
                if len(owners) > 1:
                    ambiguous.append(f"{word}: {owners}")
    assert unresolved == []
    assert ambiguous == []


def test_both_spellings_of_the_envoy_resolve_to_john_coale(real: Layout) -> None:
    coale = next(p for p in people(real) if p["id"] == "john-coale")
    assert {"Джон Коул", "Джон Коулл"} <= set(forms(coale))
