"""One generated record: its facts, the Russian (and sometimes Ukrainian) sentences that support them, which go
verbatim into the group's source texts, and its YAML once those sources have their names.

What a record holds follows its number (kinds, releases, links, former ids), so that every table of the package
has rows at any size; the random generator picks names, places and figures."""

from __future__ import annotations

import datetime as dt
import random
from collections import deque
from dataclasses import dataclass, field

from benchmarks.people import Person
from benchmarks.vocabulary import (
    ACTIONS,
    AUTHORITIES,
    MONTHS_RU_GEN,
    MONTHS_RU_PREP,
    MONTHS_UK_GEN,
    MONTHS_UK_PREP,
    PLACES,
    RELEASES,
    TARGETS,
    TOPICS,
    UNNAMED,
)

START = dt.date(2015, 1, 1)
SPAN_DAYS = 4000
RECENT = 10
KINDS = ("meeting", "call", "talks-release", "sanctions", "statement")
TYPES = (["visit", "meeting", "negotiation"], ["call", "negotiation"], ["visit", "meeting"],
         ["sanctions-change", "statement"], ["statement", "diplomatic-relations"])


@dataclass(frozen=True)
class Quote:
    text: str
    supports: tuple[str, ...]


@dataclass
class Draft:
    """A record before its sources are named: YAML up to `sources:`, and its quotes for each source."""

    id: str
    head: list[str]
    ru: list[Quote] = field(default_factory=list)
    uk: list[Quote] = field(default_factory=list)
    notes: str | None = None

    def render(self, ru_file: str, uk_file: str) -> str:
        lines = [*self.head, "sources:"]
        for file, quotes in ((ru_file, self.ru), (uk_file, self.uk)):
            if quotes:
                lines += [f"  - file: {file}", "    quotes:"]
                for quote in quotes:
                    lines += ["      - text: >-", *folded(quote.text, 10), f"        supports: [{', '.join(quote.supports)}]"]
        if self.notes:
            lines += ["notes: >-", *folded(self.notes, 2)]
        return "\n".join(lines) + "\n"


def folded(text: str, indent: int, width: int = 100) -> list[str]:
    """Text as the lines of a folded block scalar (`>-`): YAML joins them again with single spaces."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(" " * indent + line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return [*lines, " " * indent + line]


def quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class When:
    """A record's date: its YAML lines, the id's day, and how the Russian and Ukrainian texts write it."""

    lines: list[str]
    first_day: dt.date
    ru: str
    uk: str


def when(number: int, count: int) -> When:
    day = START + dt.timedelta(days=number * SPAN_DAYS // count)
    ru_day = f"{day.day} {MONTHS_RU_GEN[day.month - 1]} {day.year} года"
    uk_day = f"{day.day} {MONTHS_UK_GEN[day.month - 1]} {day.year} року"
    kind = number % 20
    if kind == 17:
        return When([f"  value: '{day:%Y-%m}'", "  precision: month", "  basis: The text gives the month only."],
                    day.replace(day=1), f"В {MONTHS_RU_PREP[day.month - 1]} {day.year} года",
                    f"У {MONTHS_UK_PREP[day.month - 1]} {day.year} року")
    if kind == 18:
        return When([f"  value: '{day.year}'", "  precision: year", "  basis: The text gives the year only."],
                    day.replace(month=1, day=1), f"В {day.year} году", f"У {day.year} році")
    if kind == 19:
        last = day + dt.timedelta(days=20)
        return When(["  precision: range", f"  earliest: '{day}'", f"  latest: '{last}'",
                     "  basis: The text bounds the date by two days and names neither as the day of the event."],
                    day, f"В период с {ru_day} по {last.day} {MONTHS_RU_GEN[last.month - 1]} {last.year} года",
                    f"У період з {uk_day} до {last.day} {MONTHS_UK_GEN[last.month - 1]} {last.year} року")
    return When([f"  value: '{day}'", "  precision: day"], day, ru_day, uk_day)


def plan(number: int, count: int, rng: random.Random, lead: Person, partner: Person, ids: deque[str]) -> Draft:
    """Record `number` of `count`, with `lead` as its first official and `partner` as the second when it has one;
    links go to one of the RECENT records before it, in `ids`."""
    kind = number % len(KINDS)
    date = when(number, count)
    slug = f"{lead.surname_en.lower()}-{KINDS[kind]}-{number}"
    draft = Draft(f"{date.first_day}-{slug}", [])
    place, topic = rng.choice(PLACES), rng.choice(TOPICS)
    officials = [(f"person: {lead.id}", lead.roles[0].en, lead.side)]
    changes: list[str] = []
    if kind in (0, 1, 2):
        officials.append((f"person: {partner.id}", partner.roles[0].en, partner.side))
        facts = ("event", "date", *(("location",) if kind != 1 else ()), f"officials.{lead.id}", f"officials.{partner.id}")
        verb = ("встретился с", "провёл телефонный разговор с", "провёл переговоры с")[kind]
        where = f" {place.ru_prep}" if kind != 1 else ""
        draft.ru += [Quote(f"{date.ru}{where} {lead.ru} {verb} {partner.ru_instr}.", facts),
                     Quote(f"Стороны обсудили {topic[1]}.", ("event",))]
        title = (f"{lead.en} meets {partner.en} in {place.en}", f"{lead.en} and {partner.en} speak by phone",
                 f"{lead.en} holds talks with {partner.en} in {place.en}")[kind]
        summary = f"{lead.en} and {partner.en} discussed {topic[0]}."
    elif kind == 3:
        title, summary, changes = _sanctions(draft, number, rng, date, lead)
    else:
        unnamed = UNNAMED[number % len(UNNAMED)]
        officials.append((f"unnamed: {unnamed.slug}\n    as_written: {quoted(unnamed.as_written)}", unnamed.role, unnamed.side))
        draft.ru.append(Quote(f"{date.ru} {unnamed.as_written} заявил о контактах с {lead.ru_instr}.",
                              ("event", "date", f"officials.{unnamed.slug}", f"officials.{lead.id}")))
        title = f"{unnamed.role} comments on contacts with {lead.en}"
        summary = f"A {unnamed.role} spoke of contacts with {lead.en}."
    types = list(TYPES[kind])
    former = ["former_ids:", f"  - {date.first_day}-{slug}-draft"] if number % 8 == 3 else []
    head = ["# yaml-language-server: $schema=../schema/record.schema.json", f"id: {draft.id}", *former,
            "date:", *date.lines, f"title: {quoted(title)}", f"summary: {quoted(summary)}"]
    body: list[str] = []
    if kind in (0, 2):
        body += ["location:", f"  place: {place.en}", f"  country: {place.country}"]
    body += ["officials:"] + [line for who, role, side in officials
                              for line in (f"  - {who}", f"    role: {quoted(role)}", f"    side: {side}")]
    if kind == 2 or number % 7 == 0:
        types.append("release")
        body += _release(draft, number, rng)
    body += changes + _links(draft, number, rng, ids) + _held(draft, number)
    if number % 3 == 0:
        draft.uk.append(Quote(f"{date.uk} {lead.uk} обговорив ситуацію з {partner.uk_instr}.", ("event", "date")))
    draft.head = [*head, f"types: [{', '.join(dict.fromkeys(types))}]", *body]
    draft.notes = "Reported by one source only; the date and the officials are as it gives them." if number % 4 == 0 else None
    ids.append(draft.id)
    return draft


def _sanctions(draft: Draft, number: int, rng: random.Random, date: When, lead: Person) -> tuple[str, str, list[str]]:
    """A title, a summary and the YAML of one or two sanctions changes, with the sentences that support them."""
    (authority, authority_ru), (action, participle) = rng.choice(AUTHORITIES), rng.choice(ACTIONS)
    target = rng.choice(TARGETS)
    draft.ru += [Quote(f"{date.ru} санкции против {target.ru_gen} были {participle} решением {authority_ru}.",
                       ("event", "date", "sanctions_changes.0")),
                 Quote(f"Об этом сообщил {lead.ru}.", (f"officials.{lead.id}",))]
    changes = [(authority, action, target)]
    if number % 2:
        later = TARGETS[(TARGETS.index(target) + 1) % len(TARGETS)]
        draft.ru.append(Quote(f"Санкции против {later.ru_gen} будут обсуждаться позднее.", ("sanctions_changes.1",)))
        changes.append((authority, "under-discussion", later))
    lines = ["sanctions_changes:"] + [line for who, what, on in changes for line in (
        f"  - authority: {who}", f"    action: {what}", f"    target: {on.en}", f"    sector: {on.sector}")]
    return (f"{authority} sanctions on {target.en} {action}", f"Sanctions on {target.en} were {action}, as {lead.en} said.",
            lines)


def _release(draft: Draft, number: int, rng: random.Random) -> list[str]:
    count = rng.randrange(12, 300)
    if number % 2:  # a number the sources give as a lower bound, the people not described
        draft.ru.append(Quote(f"На свободу вышли более {count} человек.", ("release.count",)))
        return ["release:", "  status: released", f"  count: {count}", "  qualifier: at-least",
                "  categories:", "    - category: unknown"]
    foreign, release = rng.randrange(1, 10), rng.choice(RELEASES)
    two_parts = number % 3 == 0
    counted = ("release.count", "release.foreign_nationals", *(() if two_parts else ("release.categories.0",)))
    draft.ru.append(Quote(f"В тот же день на свободу вышли {count} заключённых, среди них {foreign} "
                          "иностранных граждан.", counted))
    lines = ["release:", "  status: released", f"  count: {count}", "  qualifier: exact", f"  foreign_nationals: {foreign}",
             f"  nationalities: [{', '.join(release.nationalities)}]", f"  destinations: [{release.destination}]",
             "  categories:"]
    if two_parts:
        political = rng.randrange(1, count)
        draft.ru.append(Quote(f"Из них {political} политических заключённых и {count - political} осуждённых по "
                              "уголовным статьям.", ("release.categories.0", "release.categories.1")))
        lines += ["    - category: political-prisoners", f"      count: {political}",
                  "    - category: criminal-charges", f"      count: {count - political}"]
    else:
        lines.append("    - category: political-prisoners")
    draft.ru += [Quote(f"Среди освобождённых были граждане {release.ru_gen}.", ("release.nationalities",)),
                 Quote(f"Часть из них была направлена в {release.ru_acc}.", ("release.destinations",))]
    return lines


def _links(draft: Draft, number: int, rng: random.Random, ids: deque[str]) -> list[str]:
    if number % 3 != 1 or not ids:
        return []
    other = ids[-1 - rng.randrange(len(ids))]
    relation, text = (("after", "Это произошло после предыдущих договорённостей сторон.") if number % 2
                      else ("in-response-to", "Это стало ответом на предыдущие шаги сторон."))
    draft.ru.append(Quote(text, ("links.0",)))
    return ["links:", f"  - event: {other}", f"    relation: {relation}"]


def _held(draft: Draft, number: int) -> list[str]:
    if number % 10 != 5:
        return []
    held = 1000 + number * 7 % 400
    draft.ru.append(Quote(f"По данным правозащитного центра «Вясна», в Беларуси остаются {held} политических "
                          "заключённых.", ("prisoners_held.0",)))
    return ["prisoners_held:", f"  - count: {held}", "    qualifier: exact", "    category: political-prisoners",
            "    reported_by: Viasna"]
