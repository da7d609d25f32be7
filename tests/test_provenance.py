"""Provenance: the real records pass, and copies broken in one place fail with the right located error.

Each mutation finds its place through the loader (so it works on whatever records the dataset has), runs
on the mini dataset always and on the real one once it validates, and expects exactly one problem in the
mutated file, at the line and column of the value that is wrong.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from belarus_releases.check import dataset as check_dataset_module
from belarus_releases.check.dataset import check_dataset
from belarus_releases.check.numbers import numbers_in
from belarus_releases.check.provenance import normalise, occurs_as_word
from belarus_releases.check.sources import SourceText
from belarus_releases.check.yaml_reader import JsonPath, Loaded, load_file
from belarus_releases.export.flatten import flatten
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from corpus import BASE_TARGET, DATASETS, make_mini, prepare


@pytest.fixture(params=DATASETS)
def dataset(request: pytest.FixtureRequest, repo: Layout) -> Layout:
    return prepare(repo, request.param)


def _records(layout: Layout) -> Iterator[Loaded]:
    for path in sorted(layout.records.glob("*.yml")):
        yield load_file(layout.root, layout.relative(path))


def _replace_at(layout: Layout, loaded: Loaded, path: JsonPath, old: str, new: str) -> None:
    """Replace the first `old` at or after where the value at `path` starts."""
    file = layout.root / loaded.file
    text = file.read_text(encoding="utf-8")
    line, col = loaded.position(path)
    start = sum(len(row) + 1 for row in text.split("\n")[: line - 1]) + col - 1
    found = text.index(old, start)
    file.write_text(text[:found] + new + text[found + len(old):], encoding="utf-8")


def _problems_in(layout: Layout, file: str) -> list[Problem]:
    result = check_dataset(layout)
    assert not result.ok
    return [problem for problem in result.problems if problem.file == file]


def test_the_dataset_passes(dataset: Layout) -> None:
    result = check_dataset(dataset)
    assert result.problems == []
    assert result.records


def test_the_real_dataset_in_the_repository_passes(real: Layout) -> None:
    result = check_dataset(real)
    assert [p.to_text() for p in result.problems] == []
    assert len(result.records) == len(list(real.records.glob("*.yml")))


def test_a_quote_changed_by_one_letter_is_not_found(dataset: Layout) -> None:
    loaded = next(_records(dataset))
    path: JsonPath = ("sources", 0, "quotes", 0, "text")
    quote = loaded.data["sources"][0]["quotes"][0]["text"]
    word = max(quote.split(), key=len)
    changed = word[:2] + ("ы" if word[2] != "ы" else "а") + word[3:]
    _replace_at(dataset, loaded, path, word, changed)
    [problem] = _problems_in(dataset, loaded.file)
    assert (problem.line, problem.col, problem.type) == (*loaded.position(path), "quote-not-found")
    assert problem.message.startswith(f"the quote does not occur in sources/{loaded.data['sources'][0]['file']}: ")
    assert f"then has «{changed[2:14]}" in problem.message or "not even its first words" in problem.message


def test_a_quote_with_other_quote_marks_and_spacing_is_still_found(dataset: Layout) -> None:
    for loaded in _records(dataset):
        for s, source in enumerate(loaded.data["sources"]):
            for q, quote in enumerate(source["quotes"]):
                if " " in quote["text"] and quote["text"] == quote["text"].strip():
                    text = quote["text"]
                    _replace_at(dataset, loaded, ("sources", s, "quotes", q, "text"), text.split()[0] + " ",
                                text.split()[0] + "   ")
                    assert check_dataset(dataset).ok
                    return
    pytest.fail("no quote to respace")


def _counted(layout: Layout) -> tuple[Loaded, int, list[str]]:
    """A record with a count that its supporting quotes write, and no count_basis."""
    for loaded in _records(layout):
        release: dict[str, Any] = loaded.data.get("release", {})
        if release.get("count") is None or release.get("count_basis"):
            continue
        quotes = [q["text"] for s in loaded.data["sources"] for q in s["quotes"] if "release.count" in q["supports"]]
        return loaded, release["count"], quotes
    pytest.fail("no record states a count from its quotes")


def test_a_changed_count_is_not_in_any_quote(dataset: Layout) -> None:
    loaded, count, quotes = _counted(dataset)
    written = set().union(*(numbers_in(quote) for quote in quotes))
    assert count in written
    changed = next(n for n in range(count + 1, count + 100) if n not in written)
    _replace_at(dataset, loaded, ("release", "count"), str(count), str(changed))
    [problem] = _problems_in(dataset, loaded.file)
    assert (problem.line, problem.col, problem.type) == (*loaded.position(("release", "count")), "count-not-in-quote")
    assert problem.message.startswith(f"release.count is {changed}, but no quote supporting release.count writes {changed}")


def test_a_changed_count_with_a_count_basis_passes_but_is_not_exact(dataset: Layout) -> None:
    loaded, count, _ = _counted(dataset)
    _replace_at(dataset, loaded, ("release", "count"), str(count),
                f"{count + 1}\n  count_basis: one more than the quote says, as a test")
    problems = _problems_in(dataset, loaded.file)
    if loaded.data["release"]["qualifier"] == "exact":  # a worked-out count is no stated total
        assert [p.type for p in problems] == ["exact-not-earned"]
    else:
        assert problems == []


def test_a_dangling_person_is_unknown(dataset: Layout) -> None:
    loaded = next(r for r in _records(dataset) if r.data.get("officials"))
    person = loaded.data["officials"][0]["person"]
    file = dataset.root / loaded.file
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace(f"person: {person}\n", f"person: {person}-nobody\n", 1)
                    .replace(f"officials.{person}", f"officials.{person}-nobody"), encoding="utf-8")
    [problem] = _problems_in(dataset, loaded.file)
    assert problem.to_text() == (f"{loaded.file}:{':'.join(map(str, loaded.position(('officials', 0, 'person'))))}: "
                                 f"[unknown-person] no person with id '{person}-nobody' in registry/people.yml; "
                                 f"add them there or fix the id (did you mean '{person}'?)")


def _append_person(layout: Layout, entry: str) -> int:
    """Append a person to the people registry; the line of its id."""
    path = layout.people
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    path.write_text(text + entry, encoding="utf-8")
    return text.count("\n") + 1


EPISKOPOS = """  - id: mark-episkopos
    name:
      en: Mark Episkopos
      ru: Марк Эпископос
    roles: []
"""


def test_an_unused_person_is_reported(dataset: Layout) -> None:
    line = _append_person(dataset, EPISKOPOS)
    assert [p.to_text() for p in check_dataset(dataset).problems] == [
        f"registry/people.yml:{line}:9: [unused-entry] 'mark-episkopos': no record names this person; "
        "cite it from a record or remove it"]


def test_a_name_form_in_no_source_is_reported(dataset: Layout) -> None:
    registry = load_file(dataset.root, "registry/people.yml")
    person = registry.data["people"][0]
    path: JsonPath = ("people", 0, "name", "en")
    form = person["name"].get("ru") or person["name"].get("uk")
    assert form, "the first person has a Russian or Ukrainian name"
    path = ("people", 0, "name", "ru" if person["name"].get("ru") else "uk")
    _replace_at(dataset, registry, path, form, form + "ъ")
    assert [p.to_text() for p in check_dataset(dataset).problems] == [
        f"registry/people.yml:{':'.join(map(str, registry.position(path)))}: [variant-not-found] "
        f"'{form}ъ' does not occur as a word in any source file"]


def test_an_uncited_source_file_is_reported(dataset: Layout) -> None:
    document = "Текст, который никто не цитирует.\n".encode()
    (dataset.sources / "999_uncited.txt").write_bytes(document)
    assert [p.to_text() for p in check_dataset(dataset).problems] == [
        "registry/sources.yml:1:1: [unknown-source] sources/999_uncited.txt is not listed here; add an entry for it"]
    path = dataset.source_registry
    text = path.read_text(encoding="utf-8").rstrip("\n") + "\n"
    path.write_text(text + "  - file: 999_uncited.txt\n    title: Не цитируется\n    language: ru\n"
                    f"    sha256: {hashlib.sha256(document).hexdigest()}\n", encoding="utf-8")
    assert [p.to_text() for p in check_dataset(dataset).problems] == [
        f"registry/sources.yml:{text.count(chr(10)) + 1}:11: [unused-entry] '999_uncited.txt': no record cites this source; "
        "cite it from a record or remove it"]


def test_quotes_are_looked_for_in_a_cited_file_the_registry_does_not_list(dataset: Layout) -> None:
    """The listed sources are read before the records; a file only a record names is read with them all the same."""
    loaded = next(_records(dataset))
    cited = loaded.data["sources"][0]["file"]
    registry = dataset.source_registry
    lines = registry.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index(f"  - file: {cited}\n")
    end = next((number for number in range(start + 1, len(lines)) if lines[number].startswith("  - ")), len(lines))
    registry.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")
    unlisted = check_dataset(dataset).problems
    assert unlisted and not any(problem.type == "quote-not-found" for problem in unlisted)
    path: JsonPath = ("sources", 0, "quotes", 0, "text")
    word = max(loaded.data["sources"][0]["quotes"][0]["text"].split(), key=len)
    _replace_at(dataset, loaded, path, word, word[:2] + ("ы" if word[2] != "ы" else "а") + word[3:])
    assert {problem.message.split(":")[0] for problem in check_dataset(dataset).problems
            if problem.type == "quote-not-found"} == {f"the quote does not occur in sources/{cited}"}


def test_quotes_are_compared_after_normalising_marks_space_and_unicode() -> None:
    assert normalise("«Наш  человек»\n") == normalise('"Наш человек"') == normalise("“Наш\tчеловек”")
    assert normalise("й") == normalise("и\u0306")
    assert normalise("Наш человек") != normalise("Наш чедовек")


@pytest.mark.parametrize(("quote", "number"), [
    ("В тот же день на свободу вышли 52 заключённых.", 52), ("освобождение ещё 1300 заключённых", 1300),
    ("утримує понад 1 000 політичних в’язнів", 1000), ("Смит увёз с собой трёх освобождённых заключённых", 3),
    ("звільнив з тюрми американця і двох білоруських політв’язнів", 2), ("пятьдесят два человека", 52),
    ("сто двадцать три", 123), ("двадцать тысяч", 20000), ("п’ятьох", 5),
])
def test_numbers_are_read_in_digits_and_words(quote: str, number: int) -> None:
    assert number in numbers_in(quote)


def test_a_number_inside_a_longer_one_does_not_count() -> None:
    assert 52 not in numbers_in("1520 человек") and 52 not in numbers_in("2052 год")


def test_a_quote_is_published_as_the_source_writes_it(repo: Layout) -> None:
    # The contributor retyped «…» as straight quotes and broke the line; the published quote is the source's own text.
    mini = make_mini(repo)
    path = mini.root / BASE_TARGET
    typed = ('      - text: >-\n          Смит увёз с собой трёх освобождённых заключённых, включая гражданина США,\n'
             '          и назвал встречу "большой победой"\n        supports: [event]\n')
    text = path.read_text(encoding="utf-8").replace("      - text: В тот же день", typed + "      - text: В тот же день", 1)
    path.write_text(text, encoding="utf-8")
    result = check_dataset(mini)
    assert result.ok, [p.to_text() for p in result.problems]
    published = [row["text"] for row in flatten(result)["quotes"]]
    assert ("Смит увёз с собой трёх освобождённых заключённых, включая гражданина США, и назвал встречу «большой победой»"
            in published)
    assert "В тот же день на свободу вышли 52 заключённых." in published


def test_source_text_maps_a_normalised_match_back_to_the_original() -> None:
    source = SourceText.of("Он сказал:\n«Мир   через силу».\n")
    assert source.normal == 'Он сказал: "Мир через силу".'
    assert source.span(normalise('сказал: "Мир через силу"')) == "сказал:\n«Мир   через силу»"
    assert source.span("нет такого") is None
    assert source.span("") is None


@pytest.mark.parametrize(("words", "text", "expected"), [
    ("Коул", "посланник Коул приехал", True),
    ("Коул", "посланника Коула", False),  # inside a longer word
    ("Коул", "Коул", True),  # at both ends of the text
    ("Коул", "_Коул", False),  # the underscore is a word character
    ("Джон Коул", "и Джон Коул, и", True),
    ("Коул", "Коулы и Коул.", True),  # the first place is inside a word; a later one stands alone
    ("Коул", "", False),
])
def test_a_name_form_is_found_only_as_whole_words(words: str, text: str, expected: bool) -> None:
    assert occurs_as_word(words, text) is expected


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet="ab_ 1é,«\u0301", max_size=4), st.text(alphabet="ab_ 1é,«\u0301", max_size=24))
def test_the_word_search_finds_what_the_word_pattern_finds(words: str, text: str) -> None:
    pattern = rf"(?<!\w){re.escape(words)}(?!\w)"
    assert occurs_as_word(words, text) is (re.search(pattern, text) is not None)


def test_sources_read_again_by_the_rule_when_reading_them_early_failed(dataset: Layout,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    reference = check_dataset(dataset)

    def failing(*_: object, **__: object) -> None:
        raise MemoryError

    monkeypatch.setattr(check_dataset_module, "read_listed", failing)
    assert check_dataset(dataset) == reference


def test_a_record_whose_data_cannot_be_decoded_is_one_located_problem(dataset: Layout,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    first = sorted(dataset.records.glob("*.yml"))[0]
    real = check_dataset_module.restore

    def failing(compact: Any, root: Path, **options: Any) -> Any:
        if compact.file == dataset.relative(first):
            raise MemoryError
        return real(compact, root, **options)

    monkeypatch.setattr(check_dataset_module, "restore", failing)
    problems = check_dataset(dataset).problems
    assert [(p.file, p.type) for p in problems if p.type == "internal-error"] == [(dataset.relative(first), "internal-error")]
