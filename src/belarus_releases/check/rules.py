"""Rules across the fields of one record that passed its schema: id and file name, dates, counts, and
whether the quotes' `supports` cover every fact the record states (and only facts it has)."""

from __future__ import annotations

import datetime as dt
import difflib
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from belarus_releases.check.characters import normalise
from belarus_releases.check.numbers import numbers_in
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.problems import JsonPath, Problem, at
from belarus_releases.record import date_span, quotes

RELEASE_NUMBERS = ("count", "low", "high", "foreign_nationals")
RELEASE_LISTS = ("nationalities", "people", "destinations")


def record_problems(loaded: Loaded) -> list[Problem]:
    record = loaded.data
    return [*_id_problems(loaded, record), *_date_problems(loaded, record), *_other_date_problems(loaded, record),
            *_count_problems(loaded, record), *_official_problems(loaded, record), *_support_problems(loaded, record)]


def _id_problems(loaded: Loaded, record: dict[str, Any]) -> Iterator[Problem]:
    name = PurePosixPath(loaded.file).name
    if name != f"{record['id']}.yml":
        yield at(loaded.file, loaded.position(("id",)), "id-mismatch",
                 f"the id is '{record['id']}' but the file is named '{name}'; "
                 "the id must be the file name without .yml: fix the id, or rename the file")


def _date_problems(loaded: Loaded, record: dict[str, Any]) -> Iterator[Problem]:
    date = record["date"]
    problems = list(date_problems(loaded, date, ("date",)))
    yield from problems
    if problems:
        return
    low, high = date_span(date)
    try:
        id_date = dt.date.fromisoformat(record["id"][:10])
    except ValueError:
        yield at(loaded.file, loaded.position(("id",)), "date-mismatch",
                 f"the id starts with {record['id'][:10]}, which is not a real date; start it with the event date")
        return
    if not low <= id_date <= high:
        yield at(loaded.file, loaded.position(("id",)), "date-mismatch",
                 f"the id starts with {id_date} but the event date is {_span_text(low, high)}; "
                 "start the id (and file name) with the event date, or its first possible day")
    elif id_date != low:
        yield at(loaded.file, loaded.position(("id",)), "date-not-earliest",
                 f"the id starts with {id_date} but the first possible day of the event is {low}; start the id (and "
                 f"file name) with {low}, and list the old id in former_ids if it was published")


def _other_date_problems(loaded: Loaded, record: dict[str, Any]) -> Iterator[Problem]:
    """The release's own date and the dates of counts of prisoners held follow the same rules as the event's."""
    if "date" in record.get("release", {}):
        yield from date_problems(loaded, record["release"]["date"], ("release", "date"))
    for number, held in enumerate(record.get("prisoners_held", [])):
        if "date" in held:
            yield from date_problems(loaded, held["date"], ("prisoners_held", number, "date"))


def date_problems(loaded: Loaded, date: dict[str, Any], path: JsonPath) -> Iterator[Problem]:
    """What is wrong inside one date (the event's, or another the record gives): bounds that do not agree with each
    other or with the value, and a range without its earliest bound."""
    earliest, latest = date.get("earliest"), date.get("latest")
    if earliest and latest and latest < earliest:
        yield at(loaded.file, loaded.position((*path, "latest")), "date-mismatch",
                 f"latest ({latest}) is before earliest ({earliest}); swap them or correct one")
        return
    try:
        low, high = date_span(date)
    except ValueError:  # year 0000: the pattern allows it, the calendar does not
        yield at(loaded.file, loaded.position((*path, "value")), "date-mismatch",
                 f"{date.get('value')} is not a real date; correct the year")
        return
    if low > high:
        yield at(loaded.file, loaded.position((*path, "value")), "date-mismatch",
                 f"the value {date.get('value')} lies outside earliest..latest ({earliest or '…'} to {latest or '…'}); "
                 "correct the value or the bounds")
        return
    if date["precision"] == "range" and not earliest:
        yield at(loaded.file, loaded.position((*path, "precision")), "date-not-earliest",
                 "a range needs its earliest bound: add earliest, the first day the text allows (a dated article's "
                 "'in recent months', 'summer 2020'), and say in basis how it follows from the words")


def _span_text(low: dt.date, high: dt.date) -> str:
    if low == high:
        return str(low)
    return f"between {'…' if low == dt.date.min else low} and {'…' if high == dt.date.max else high}"


def _count_problems(loaded: Loaded, record: dict[str, Any]) -> Iterator[Problem]:
    release = record.get("release")
    if not release:
        return
    count, low, high = release.get("count"), release.get("low"), release.get("high")
    qualifier = release["qualifier"]
    if qualifier == "exact" and count is None:  # (a position is looked up only for a problem: it may read the file)
        yield at(loaded.file, loaded.position(("release",)), "count-range",
                 "qualifier exact needs a count; add release.count or change the qualifier")
    if qualifier == "vague":
        if "words" not in release:
            yield at(loaded.file, loaded.position(("release", "qualifier")), "count-range",
                     "qualifier vague needs release.words, the source's own words for how many (for example десятки)")
        for name in ("count", "low", "high"):
            if release.get(name) is not None:
                yield at(loaded.file, loaded.position(("release", name)), "count-range",
                         f"qualifier vague means the sources give no number, so release.{name} cannot be given: leave it "
                         "out, or choose the qualifier the quoted number allows")
    elif "words" in release:
        yield at(loaded.file, loaded.position(("release", "words")), "count-range",
                 "release.words is for qualifier vague (words with no number); with a number, leave words out")
    pairs = [("low", low, "count", count), ("count", count, "high", high), ("low", low, "high", high)]
    for small_name, small, big_name, big in pairs:
        if small is not None and big is not None and small > big:
            yield at(loaded.file, loaded.position(("release", small_name)), "count-range",
                     f"{small_name} ({small}) is greater than {big_name} ({big}); correct one of them")
    most = high if high is not None else (count if qualifier not in ("at-least", "vague") else None)
    foreign = release.get("foreign_nationals")
    if foreign is not None and most is not None and foreign > most:
        yield at(loaded.file, loaded.position(("release", "foreign_nationals")), "count-range",
                 f"foreign_nationals ({foreign}) is more than the number released ({most}); correct one of them")
    yield from _category_problems(loaded, release, most)


def _category_problems(loaded: Loaded, release: dict[str, Any], most: int | None) -> Iterator[Problem]:
    """The parts of a release: each category once, a part without a count only when it is the whole release, and
    counts that add up to no more than the release (to exactly its count when it is exact and every part is counted)."""
    parts = release["categories"]
    seen: set[str] = set()
    for number, part in enumerate(parts):
        if part["category"] in seen:
            yield at(loaded.file, loaded.position(("release", "categories", number, "category")), "count-range",
                     f"category {part['category']} is listed twice; give one part per category")
        seen.add(part["category"])
        if len(parts) > 1 and part.get("count") is None:
            yield at(loaded.file, loaded.position(("release", "categories", number)), "count-range",
                     "with several parts, each part needs its count; a part without a count is the whole release")
    counts = [part["count"] for part in parts if part.get("count") is not None]
    total = sum(counts)
    if counts and most is not None and total > most:
        yield at(loaded.file, loaded.position(("release", "categories")), "count-range",
                 f"the parts add up to {total}, more than the number released ({most}); correct the counts")
    elif (len(counts) == len(parts) and release["qualifier"] == "exact" and release.get("count") is not None
          and total != release["count"]):
        yield at(loaded.file, loaded.position(("release", "categories")), "count-range",
                 f"the parts add up to {total} but the exact count is {release['count']}; correct the counts")


def official_key(official: dict[str, Any]) -> str:
    """How quotes refer to an official: officials.PERSON-ID, or officials.SLUG for one the sources do not name."""
    return str(official["person"] if "person" in official else official["unnamed"])  # neither: a KeyError, as for
    # any field the rules read, so that they wait until a typo such as `persn:` is fixed


def _official_problems(loaded: Loaded, record: dict[str, Any]) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for number, official in enumerate(record.get("officials", [])):
        if "person" in official and "unnamed" in official:
            yield at(loaded.file, loaded.position(("officials", number, "unnamed"), key=True), "schema",
                     f"officials.{number} has both person and unnamed; keep person for a registered person, unnamed "
                     "for one the sources do not name")
            continue
        key = official_key(official)
        if key in seen:
            yield at(loaded.file, loaded.position(("officials", number)), "duplicate-id",
                     f"officials.{number} is '{key}' again (first as officials.{seen[key]}); list each official once")
        seen.setdefault(key, number)


def facts(record: dict[str, Any]) -> dict[str, JsonPath]:
    """Every fact the record states that a quote must support, with where its value is."""
    found: dict[str, JsonPath] = {"event": ("title",), "date": ("date",)}
    if "location" in record:
        found["location"] = ("location",)
    for number, official in enumerate(record.get("officials", [])):
        found[f"officials.{official_key(official)}"] = ("officials", number)
    release = record.get("release", {})
    for name in RELEASE_NUMBERS + RELEASE_LISTS + ("words", "date"):
        if release.get(name) not in (None, []):
            found[f"release.{name}"] = ("release", name)
    if "status" in release:
        found["release.status"] = ("release", "status")
    for number in range(len(release.get("categories", []))):
        found[f"release.categories.{number}"] = ("release", "categories", number)
    for key in ("sanctions_changes", "links", "prisoners_held"):
        for number in range(len(record.get(key, []))):
            found[f"{key}.{number}"] = (key, number)
    return found


def _near_miss(fact: str, stated: dict[str, JsonPath]) -> str | None:
    """A stated fact of the same kind whose name is a likely typo of `fact` (officials.jon-coale: officials.john-coale)."""
    kind, _, name = fact.rpartition(".")
    same_kind = {other.rpartition(".")[2]: other for other in stated if other.rpartition(".")[0] == kind}
    close = difflib.get_close_matches(name, sorted(same_kind), n=1, cutoff=0.8)
    return same_kind[close[0]] if close else None


def optional_facts(record: dict[str, Any]) -> set[str]:
    """Facts that need no quote: the release status, and a part the sources do not describe (unknown, no count)."""
    parts = record.get("release", {}).get("categories", [])
    return {"release.status"} | {f"release.categories.{number}" for number, part in enumerate(parts)
                                 if part["category"] == "unknown" and part.get("count") is None}


def _support_problems(loaded: Loaded, record: dict[str, Any]) -> Iterator[Problem]:
    stated = facts(record)
    supported: dict[str, list[str]] = {}
    claims: dict[str, list[tuple[int, int]]] = {}
    for path, _, quote in quotes(record):
        for number, fact in enumerate(quote["supports"]):
            if fact not in stated:
                claims.setdefault(fact, []).append(loaded.position((*path, "supports", number)))
            supported.setdefault(fact, []).append(quote["text"])
    for fact, places in claims.items():  # one problem per missing fact, however many quotes claim it
        also = f" (so do the quotes at lines {', '.join(str(line) for line, _ in places[1:])})" if len(places) > 1 else ""
        close = _near_miss(fact, stated)
        advice = f"; did you mean '{close}'?" if close else ""
        yield at(loaded.file, places[0], "bad-support",
                 f"this quote says it supports '{fact}', which the record does not state{also}{advice}")
    optional = optional_facts(record)
    for fact, where in stated.items():
        if fact not in supported and fact not in optional:
            yield at(loaded.file, loaded.position(where), "fact-unsupported",
                     f"no quote supports '{fact}'; add it to the supports of the quote that shows it")
    yield from _number_problems(loaded, record.get("release", {}), supported)
    yield from _figure_problems(loaded, record, supported)


def _number_problems(loaded: Loaded, release: dict[str, Any], supported: dict[str, list[str]]) -> Iterator[Problem]:
    """Every number needs words that give it, in a quote that supports that very field. A count of people may be
    worked out (count_basis: 'an American and two Belarusians' is 3), but then it is not exact; a bound never is."""
    basis = release.get("count_basis")
    for name in RELEASE_NUMBERS:
        value, texts = release.get(name), supported.get(f"release.{name}")
        if value is None or not texts or any(value in numbers_in(text) for text in texts):
            continue  # no quote at all is fact-unsupported
        if name in ("low", "high"):
            yield at(loaded.file, loaded.position(("release", name)), "figure-not-quoted",
                     f"release.{name} is {value}, but no quote supporting release.{name} writes {value}; a bound must be "
                     "the sources' own number: quote the words that give it, or leave the bound out (for words such as "
                     "'dozens' use qualifier vague)")
        elif not basis:
            yield at(loaded.file, loaded.position(("release", name)), "count-not-in-quote",
                     f"release.{name} is {value}, but no quote supporting release.{name} writes {value} in digits or words; "
                     "quote the words that give the number, or explain the number in release.count_basis")
        elif name == "count" and release["qualifier"] == "exact":
            yield at(loaded.file, loaded.position(("release", "qualifier")), "exact-not-earned",
                     f"release.count is exact ({value}), but no quote supporting release.count writes {value}; a count "
                     "worked out in count_basis is not a stated total: make the qualifier at-least (or about), or "
                     "quote the words that state the total")
    for number, part in enumerate(release.get("categories", [])):
        value, texts = part.get("count"), supported.get(f"release.categories.{number}")
        if value is None or not texts or part.get("basis") or any(value in numbers_in(text) for text in texts):
            continue
        yield at(loaded.file, loaded.position(("release", "categories", number, "count")), "count-not-in-quote",
                 f"release.categories.{number}.count is {value}, but no quote supporting release.categories.{number} "
                 f"writes {value} in digits or words; quote the words that give it, or say how it was worked out in "
                 f"release.categories.{number}.basis")


def _figure_problems(loaded: Loaded, record: dict[str, Any], supported: dict[str, list[str]]) -> Iterator[Problem]:
    """Figures that are never worked out: a vague count's words, and counts of prisoners held."""
    words, texts = record.get("release", {}).get("words"), supported.get("release.words")
    if words and texts and not any(normalise(words).casefold() in normalise(text).casefold() for text in texts):
        yield at(loaded.file, loaded.position(("release", "words")), "figure-not-quoted",
                 f"release.words is '{words}', but no quote supporting release.words contains these words; copy them "
                 "exactly from the quote")
    for number, held in enumerate(record.get("prisoners_held", [])):
        texts = supported.get(f"prisoners_held.{number}")
        if texts and not any(held["count"] in numbers_in(text) for text in texts):
            yield at(loaded.file, loaded.position(("prisoners_held", number, "count")), "figure-not-quoted",
                     f"prisoners_held.{number}.count is {held['count']}, but no quote supporting prisoners_held.{number} "
                     f"writes {held['count']}; a count of prisoners held is always the source's own number: quote it")
