"""Generate a realistic dataset repository of N records that `belarus-releases validate` accepts, deterministically.

Records come in groups of GROUP; each group has a Russian and a Ukrainian source text holding, verbatim, the
sentences its records quote, and introduces up to NEW_PEOPLE officials (registry/people.yml) in both, with every
form of their names. Sources are named and hashed as `belarus-releases add-source` does and listed in
registry/sources.yml. schema/, metadata.yml and assertions.yml are the project's own. Only one group is held in
memory at a time, so 100,000 records take as little memory as 1,000.

    python -m benchmarks.generate --records 10000 OUT     # same --seed, same bytes
"""

from __future__ import annotations

import argparse
import hashlib
import random
import shutil
import time
from collections import deque
from pathlib import Path
from typing import IO

from belarus_releases.layout import Layout
from belarus_releases.scaffold import SourceFacts, registry_entry, source_file_name
from benchmarks.people import Person, introduction_ru, introduction_uk, make_person, people_count, people_yaml, person_yaml
from benchmarks.records import RECENT, Draft, plan
from benchmarks.vocabulary import FILLERS_RU, FILLERS_UK, OUTLETS

ROOT = Path(__file__).resolve().parent.parent
COPIED = ("schema", "metadata.yml", "assertions.yml")
# The checker reads no YAML file over 256 KiB (check/yaml_reader.py MAX_BYTES), registries included: about 1,000
# source entries or 250 people. So groups grow with N to keep at most MAX_GROUPS (two sources each), and people
# stop at MAX_PEOPLE.
MAX_GROUPS = 450
MAX_PEOPLE = 200
GROUP = 12
NEW_PEOPLE = 4
MINIMUM = 10


def generate(target: Path, count: int, seed: int = 0) -> Layout:
    """Write a repository of `count` records into `target` (which must be empty or missing) and return its layout."""
    if count < MINIMUM:
        raise ValueError(f"generate at least {MINIMUM} records")
    if target.exists() and any(target.iterdir()):
        raise ValueError(f"{target} is not empty")
    layout = Layout(target)
    for part in COPIED:
        source = ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part)
        else:
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / part)
    for folder in (layout.records, layout.sources, layout.people.parent):
        folder.mkdir(parents=True)
    group = max(GROUP, -(-count // MAX_GROUPS))
    groups = [(start, min(group, count - start)) for start in range(0, count, group)]
    capacity = sum(min(NEW_PEOPLE, size) for _, size in groups)
    people = [make_person(number) for number in range(min(people_count(count), capacity, MAX_PEOPLE))]
    entries = _write_groups(layout, groups, people, random.Random(seed))
    layout.people.write_bytes(people_yaml(entries).encode())
    return layout


def _write_groups(layout: Layout, groups: list[tuple[int, int]], people: list[Person], rng: random.Random) -> list[str]:
    """Every group's records and sources; returns the people registry's entries."""
    count = groups[-1][0] + groups[-1][1]
    ids: deque[str] = deque(maxlen=RECENT)  # the records links may go to
    entries: list[str] = []
    introduced: list[Person] = []
    with layout.source_registry.open("w", encoding="utf-8", newline="\n") as registry:
        registry.write("# yaml-language-server: $schema=../schema/sources.schema.json\nsources:\n")
        for number, (start, size) in enumerate(groups):
            new = people[len(introduced):len(introduced) + min(NEW_PEOPLE, size)]
            introduced += new
            drafts = [plan(start + index, count, rng, *_pair(index, new, introduced, rng), ids) for index in range(size)]
            year = int(drafts[0].id[:4])
            published = drafts[-1].id[:10]
            ru = _source_text(published, [introduction_ru(person, year) for person in new],
                              [_paragraph(draft, FILLERS_RU, "ru") for draft in drafts])
            uk = _source_text(published, [introduction_uk(person) for person in new],
                              [_paragraph(draft, FILLERS_UK, "uk") for draft in drafts if draft.uk])
            ru_file = _add_source(layout, registry, 2 * number, ru, _facts(number, "ru", published))
            uk_file = _add_source(layout, registry, 2 * number + 1, uk, _facts(number, "uk", published))
            entries += [person_yaml(person, ru_file, year) for person in new]
            for draft in drafts:
                (layout.records / f"{draft.id}.yml").write_bytes(draft.render(ru_file, uk_file).encode())
    return entries


def _pair(index: int, new: list[Person], introduced: list[Person], rng: random.Random) -> tuple[Person, Person]:
    """The lead official (each person new in the group leads one of its records) and a different partner."""
    lead = new[index] if index < len(new) else rng.choice(introduced)
    partner = rng.choice(introduced)
    while partner is lead:
        partner = rng.choice(introduced)
    return lead, partner


def _paragraph(draft: Draft, fillers: tuple[str, ...], language: str) -> str:
    quotes = draft.ru if language == "ru" else draft.uk
    return " ".join([quote.text for quote in quotes] + [fillers[len(draft.id) % len(fillers)]])


def _source_text(published: str, introductions: list[str], paragraphs: list[str]) -> bytes:
    return (f"date {published}\n\n" + "\n\n".join(introductions + paragraphs) + "\n").encode()


def _facts(number: int, language: str, published: str) -> SourceFacts:
    title = f"Хроника, выпуск {number + 1}" if language == "ru" else f"Ukrainian report, part {number + 1}"
    return SourceFacts(title, language, outlet=OUTLETS[number % len(OUTLETS)],
                       original_reporter="Reuters" if number % 5 == 0 else None, published=published)


def _add_source(layout: Layout, registry: IO[str], number: int, raw: bytes, facts: SourceFacts) -> str:
    """What `add-source` does, without reading every earlier source again: name by number and hash, list it."""
    digest = hashlib.sha256(raw).hexdigest()
    name: str = source_file_name(number, digest)
    (layout.sources / name).write_bytes(raw)
    registry.write(registry_entry(name, digest, facts))
    return name


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("target", type=Path, help="an empty or missing folder")
    parser.add_argument("--records", type=int, default=1_000, help="how many records (default: 1000)")
    parser.add_argument("--seed", type=int, default=0, help="the same seed gives the same bytes (default: 0)")
    args = parser.parse_args()
    start = time.perf_counter()
    layout = generate(args.target, args.records, args.seed)
    sources = sum(1 for _ in layout.sources.iterdir())
    print(f"{args.records:,} records and {sources:,} sources in {layout.root} ({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
