"""Generated people: officials with a name in three languages, registered forms of it, and roles whose evidence is
a sentence of the source text that introduces them (registry/people.yml)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass

from benchmarks.vocabulary import FIRST_NAMES, ROLES, SIDES, SYLLABLES, FirstName, Role


@dataclass(frozen=True)
class Person:
    """One official; `number` decides the name, side and roles, so the same number is always the same person."""

    number: int
    first: FirstName
    surname: str  # Cyrillic, the same in Russian and Ukrainian
    surname_en: str
    side: str
    roles: tuple[Role, ...]

    @property
    def id(self) -> str:
        return f"{self.first.en}-{self.surname_en}".lower()

    @property
    def en(self) -> str:
        return f"{self.first.en} {self.surname_en}"

    @property
    def ru(self) -> str:
        return f"{self.first.ru} {self.surname}"

    @property
    def ru_instr(self) -> str:
        return f"{self.first.ru_instr} {self.surname}ым"

    @property
    def uk(self) -> str:
        return f"{self.first.uk} {self.surname}"

    @property
    def uk_instr(self) -> str:
        return f"{self.first.uk_instr} {self.surname}им"


def people_count(records: int) -> int:
    """Officials recur, so their number grows more slowly than the events': twice the square root."""
    return max(8, round(2 * math.sqrt(records)))


def make_person(number: int) -> Person:
    digits: list[int] = []
    rest = number * 7 + 291  # one-to-one, and livelier names than counting from какака
    while rest or len(digits) < 3:
        digits.append(rest % len(SYLLABLES))
        rest //= len(SYLLABLES)
    syllables = [SYLLABLES[digit] for digit in reversed(digits)]
    surname = "".join(ru for ru, _ in syllables) + "ов"
    surname_en = "".join(en for _, en in syllables) + "ov"
    side = SIDES[number % len(SIDES)]
    choices = ROLES[side]
    roles: tuple[Role, ...] = (choices[number % len(choices)],)
    if number % 3 == 0:  # some hold a second role later
        roles += (choices[(number + 1) % len(choices)],)
    return Person(number, FIRST_NAMES[number % len(FIRST_NAMES)], surname.capitalize(), surname_en.capitalize(), side,
                  roles)


def role_sentences(person: Person, year: int) -> list[str]:
    """The Russian sentences that attest each role (evidence in the registry)."""
    sentences = [f"{person.ru} – {person.roles[0].ru}."]
    if len(person.roles) > 1:
        sentences.append(f"С {year + 1} года {person.surname} – {person.roles[1].ru}.")
    return sentences


def introduction_ru(person: Person, year: int) -> str:
    """A paragraph that writes every Russian form of the name (each must occur in a source) and the roles."""
    return " ".join([*role_sentences(person, year)[:1], f"Ранее {person.surname} уже участвовал в переговорах.",
                     f"Встреча с {person.ru_instr} ожидается в ближайшее время.", *role_sentences(person, year)[1:]])


def introduction_uk(person: Person) -> str:
    return " ".join([f"{person.uk} – {person.roles[0].uk}.", f"Раніше {person.surname} вже брав участь у переговорах.",
                     f"Зустріч з {person.uk_instr} очікується найближчим часом."])


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)


def person_yaml(person: Person, evidence_file: str, year: int) -> str:
    """The registry entry: display names, every other form as a variant, roles with their evidence."""
    variants = [(person.ru_instr, "ru", "inflected"), (person.surname, "ru", "short"), (person.uk_instr, "uk", "inflected"),
                (person.surname, "uk", "short")]
    lines = [f"  - id: {person.id}", "    name:", f"      en: {_q(person.en)}", f"      ru: {_q(person.ru)}",
             f"      uk: {_q(person.uk)}", "    variants:"]
    for text, lang, kind in variants:
        lines += [f"      - text: {_q(text)}", f"        lang: {lang}", f"        kind: {kind}"]
    lines += [f"      - text: {_q(person.surname_en)}", "        lang: en", "        kind: editorial",
              f"        from: {_q(person.surname)}",
              "        basis: BGN/PCGN romanisation of the Russian surname, as the sources write it.", "    roles:"]
    for number, (role, sentence) in enumerate(zip(person.roles, role_sentences(person, year), strict=True)):
        lines += [f"      - title: {_q(role.en)}", f"        side: {person.side}", f"        from: '{year + number}'",
                  "        evidence:", f"          - file: {evidence_file}", f"            text: {_q(sentence)}"]
    return "\n".join(lines) + "\n"


def people_yaml(entries: Iterable[str]) -> str:
    return "# yaml-language-server: $schema=../schema/people.schema.json\npeople:\n" + "".join(entries)
