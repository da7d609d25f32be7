"""Facts no stronger than their words: the places the schema has for what the sources actually say (categories,
vague counts, a release's own date, links, counts of prisoners held, unnamed officials, editorial name forms,
former ids), and the rules that keep each of them to its quote. Each case edits the mini dataset's one record
(or registry) and expects exactly the located problems listed."""

from __future__ import annotations

import pytest

from belarus_releases.check.dataset import check_dataset
from belarus_releases.layout import Layout
from corpus import BASE_TARGET, make_mini

R = BASE_TARGET
PEOPLE = "registry/people.yml"


@pytest.fixture
def mini(repo: Layout) -> Layout:
    return make_mini(repo)


def _edit(layout: Layout, relative: str, *pairs: tuple[str, str]) -> None:
    path = layout.root / relative
    text = path.read_text(encoding="utf-8")
    for old, new in pairs:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path.write_text(text, encoding="utf-8")


def _found(layout: Layout) -> list[str]:
    """Each problem as 'file:line:col: [type]'."""
    return [problem.to_text().split("] ", 1)[0] + "]" for problem in check_dataset(layout).problems]


COUNT = "  count: 52\n  qualifier: exact\n"
CATEGORIES = "  categories: [{category: unknown}]\n"
SUPPORTS = "supports: [release.status, release.count]"
SOURCES = "sources:\n"


@pytest.mark.parametrize(("edits", "expected"), [
    # words without a number: qualifier vague with the source's words, never a number
    ([(COUNT, "  qualifier: vague\n  words: на свободу вышли\n"), (SUPPORTS, "supports: [release.status, release.words]")],
     []),
    ([(COUNT, "  qualifier: vague\n  count: 52\n  words: на свободу вышли\n"),
      (SUPPORTS, "supports: [release.status, release.count, release.words]")],
     [f"{R}:20:10: [count-range]"]),
    ([(COUNT, "  qualifier: vague\n  words: десятки\n"), (SUPPORTS, "supports: [release.status, release.words]")],
     [f"{R}:20:10: [figure-not-quoted]"]),
    ([(COUNT, "  count: 52\n  qualifier: exact\n  words: вышли 52\n"),
      (SUPPORTS, "supports: [release.status, release.count, release.words]")],
     [f"{R}:21:10: [count-range]"]),
    # parts of a release: counted when there are several, adding up, each in its quote or with its basis
    ([(CATEGORIES, "  categories:\n    - {category: foreign-nationals, count: 14}\n"
                   "    - {category: unknown, count: 38, basis: 52 released less the 14 foreign nationals}\n"),
      ("supports: [release.foreign_nationals]", "supports: [release.foreign_nationals, release.categories.0]"),
      (SUPPORTS, "supports: [release.status, release.count, release.categories.1]")],
     []),
    # a part with a count is a fact like any other: it needs its quote
    ([(CATEGORIES, "  categories:\n    - {category: foreign-nationals, count: 14}\n    - {category: unknown, count: 38}\n"),
      ("supports: [release.foreign_nationals]", "supports: [release.foreign_nationals, release.categories.0]")],
     [f"{R}:24:7: [fact-unsupported]"]),
    ([(CATEGORIES, "  categories:\n    - {category: foreign-nationals, count: 14}\n    - {category: unknown, count: 40}\n"),
      ("supports: [release.foreign_nationals]", "supports: [release.foreign_nationals, release.categories.0]"),
      (SUPPORTS, "supports: [release.status, release.count, release.categories.1]")],
     [f"{R}:23:5: [count-range]", f"{R}:24:34: [count-not-in-quote]"]),
    ([(CATEGORIES, "  categories:\n    - {category: foreign-nationals, count: 14}\n    - {category: unknown}\n"),
      ("supports: [release.foreign_nationals]", "supports: [release.foreign_nationals, release.categories.0]")],
     [f"{R}:24:7: [count-range]"]),
    ([(CATEGORIES, "  categories:\n    - {category: unknown}\n    - {category: unknown}\n")],
     [f"{R}:23:7: [count-range]", f"{R}:24:7: [count-range]", f"{R}:24:18: [count-range]"]),
    ([(CATEGORIES, "  categories:\n    - {category: foreign-nationals, count: 15}\n"
                   "    - {category: unknown, count: 37, basis: 52 released less the foreign nationals}\n"),
      ("supports: [release.foreign_nationals]", "supports: [release.foreign_nationals, release.categories.0]"),
      (SUPPORTS, "supports: [release.status, release.count, release.categories.1]")],
     [f"{R}:23:44: [count-not-in-quote]"]),
    ([(CATEGORIES, "  categories: [{category: political-prisoners}]\n")], [f"{R}:22:16: [fact-unsupported]"]),
    # a release dated apart from its event follows the same date rules
    ([(CATEGORIES, CATEGORIES + "  date: {precision: range, latest: '2025-09-30'}\n"),
      (SUPPORTS, "supports: [release.status, release.count, release.date]")],
     [f"{R}:23:21: [date-not-earliest]"]),
    ([(CATEGORIES, CATEGORIES + "  date: {precision: range, earliest: '2025-09-11', latest: '2025-09-30'}\n")],
     [f"{R}:23:9: [fact-unsupported]"]),
    # counts of prisoners held are always the source's own number
    ([(SOURCES, "prisoners_held:\n  - {count: 1226, qualifier: exact, category: political-prisoners, reported_by: Viasna}\n"
                + SOURCES), (SUPPORTS, "supports: [release.status, release.count, prisoners_held.0]")],
     [f"{R}:24:13: [figure-not-quoted]"]),
    # links name another record by its current id
    ([(SOURCES, "links:\n  - {event: 2025-09-11-coale-minsk-release, relation: after}\n" + SOURCES),
      (SUPPORTS, "supports: [release.status, release.count, links.0]")],
     [f"{R}:24:13: [unknown-event]"]),
    ([(SOURCES, "former_ids: [2025-09-10-coale-minsk-release]\nlinks:\n"
                "  - {event: 2025-09-10-coale-minsk-release, relation: after}\n" + SOURCES),
      (SUPPORTS, "supports: [release.status, release.count, links.0]")],
     [f"{R}:25:13: [unknown-event]"]),
    ([(SOURCES, "former_ids: [2025-09-11-coale-minsk-release]\n" + SOURCES)], [f"{R}:23:14: [duplicate-id]"]),
    # officials the sources do not name: their words must be in each quote that supports them
    ([("officials:\n", "officials:\n  - {unnamed: kellogg-deputy, as_written: заместителем спецпредставителя, "
                       "role: Deputy Special Envoy, side: us}\n"),
      ("officials.john-coale]", "officials.john-coale, officials.kellogg-deputy]")],
     []),
    ([("officials:\n", "officials:\n  - {person: john-coale, role: Special Envoy, side: us}\n")],
     [f"{R}:15:5: [duplicate-id]"]),
    ([("officials:\n", "officials:\n  - {unnamed: kgb-head, as_written: главой КГБ, role: Head of the KGB, side: belarus}\n"),
      ("officials.john-coale]", "officials.john-coale, officials.kgb-head]")],
     [f"{R}:30:65: [official-not-named]"]),
    ([("  - person: john-coale\n", "  - person: john-coale\n    unnamed: envoy\n    as_written: Джоном Коулом\n")],
     [f"{R}:15:5: [schema]"]),
    ([("  - person: john-coale\n", "  - unnamed: envoy\n")], [f"{R}:14:5: [missing-field]"]),
    # disputed titles and sanctions under discussion are plain values
    ([("    role: Deputy Special Envoy\n", "    role: Deputy Special Envoy\n    other_roles: [Special Envoy]\n")], []),
])
def test_what_the_sources_say_is_held_to_their_words(mini: Layout, edits: list[tuple[str, str]],
                                                     expected: list[str]) -> None:
    _edit(mini, R, *edits)
    assert _found(mini) == expected


def test_an_editorial_name_form_needs_its_basis_and_a_source_form(mini: Layout) -> None:
    editorial = "      - text: Dzhon Koul\n        lang: en\n        kind: editorial\n"
    _edit(mini, PEOPLE, ("        kind: inflected\n", "        kind: inflected\n" + editorial))
    assert _found(mini) == [f"{PEOPLE}:10:9: [missing-field]"] * 2  # basis, and from
    _edit(mini, PEOPLE, (editorial, editorial + "        from: Джон Коул\n        basis: BGN/PCGN romanisation of Russian.\n"))
    assert _found(mini) == []  # in no source, and not reported as such
    _edit(mini, PEOPLE, ("        from: Джон Коул\n", "        from: Джон Коулл\n"))
    assert _found(mini) == [f"{PEOPLE}:13:15: [variant-not-found]"]
