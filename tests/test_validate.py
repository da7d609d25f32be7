"""Stage 2 and the rules across files: schema errors located and explained, every mistake reported in one run,
rules on dates and counts, unique ids and references, and no stage that can hide another or crash."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from belarus_releases.check import dataset as check_module
from belarus_releases.check import per_file
from belarus_releases.check.dataset import check_dataset
from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from belarus_releases.problems import TYPES, Problem
from corpus import BASE_TARGET, SOURCE, make_mini, valid_cases


@pytest.fixture
def mini(repo: Layout) -> Layout:
    return make_mini(repo)


def _edit(layout: Layout, relative: str, old: str, new: str) -> None:
    path = layout.root / relative
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def _lines(layout: Layout) -> list[str]:
    return [problem.to_text() for problem in check_dataset(layout).problems]


def _record(layout: Layout, old: str, new: str) -> list[str]:
    _edit(layout, BASE_TARGET, old, new)
    return _lines(layout)


R = BASE_TARGET


# The CLI contract


def test_exit_0_when_valid_1_when_invalid_2_on_misuse(mini: Layout, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["validate", "--root", str(mini.root)]).exit_code == 0
    assert runner.invoke(cli, ["validate", "--root", str(tmp_path)]).exit_code == 2  # no records/ folder
    assert runner.invoke(cli, ["validate", "--no-such-option"]).exit_code == 2
    _edit(mini, R, "count: 52", "count: 53")
    assert runner.invoke(cli, ["validate", "--root", str(mini.root)]).exit_code == 1


@pytest.mark.parametrize("case", valid_cases(), ids=lambda case: case.name)
def test_valid_edge_cases_pass(mini: Layout, case: object) -> None:
    from corpus import Case, place

    assert isinstance(case, Case)
    place(mini, case)
    result = CliRunner().invoke(cli, ["validate", "--root", str(mini.root)])
    assert (result.exit_code, result.output) == (0, "5 files checked, no problems.\n")


# Schema errors


def test_three_mistakes_give_three_located_messages_in_one_run(mini: Layout) -> None:
    _edit(mini, R, "side: us", "side: usa")
    _edit(mini, R, "country: BY", "country: XX")
    assert _record(mini, "count: 52", "count: many") == [
        f"{R}:12:12: [schema] location.country: \"XX\" is not one of the allowed codes. "
        "Expected: ISO 3166-1 alpha-2 country code in capitals, for example BY, US, LT.",
        f"{R}:16:11: [schema] officials.0.side (official 1): \"usa\" is not one of: us, belarus, eu, other. "
        "Expected: Which side the person represented: us, belarus, eu or other.",
        f"{R}:19:10: [schema] release.count: \"many\" is text, expected a whole number; write a number in digits. "
        "Expected: Number of people, as the sources give it; see qualifier.",
    ]


def test_mistakes_in_several_files_are_all_reported_sorted(mini: Layout) -> None:
    other = mini.records / "2025-09-11-coale-visits-minsk.yml"
    other.write_text((mini.root / R).read_text(encoding="utf-8").replace(
        "id: 2025-09-11-coale-minsk-release", "id: 2025-09-11-coale-visits-minsk").replace("side: us", "side: usa"),
        encoding="utf-8")
    _edit(mini, R, "count: 52", "count: -5")
    assert [line.split(": [")[0] for line in _lines(mini)] == [f"{R}:19:10", "records/2025-09-11-coale-visits-minsk.yml:16:11"]


def test_a_typo_is_one_unknown_field_not_also_a_missing_field(mini: Layout) -> None:
    assert _record(mini, "summary:", "sumary:") == [f"{R}:6:1: [unknown-field] unknown field 'sumary' in the file; "
                                                    "did you mean 'summary'?"]


TYPOS_OF_FIELDS_THE_RULES_READ = {"id": ("id: 2025", "NOid: 2025", 1, "id"), "date": ("\ndate:", "\ndat:", 2, "date"),
                                  "sources": ("\nsources:", "\nsourcs:", 23, "sources"),
                                  "person": ("- person:", "- persn:", 14, "person")}


@pytest.mark.parametrize("typo", TYPOS_OF_FIELDS_THE_RULES_READ.values(), ids=TYPOS_OF_FIELDS_THE_RULES_READ.keys())
def test_a_typo_of_a_field_the_rules_read_is_one_unknown_field_not_a_crash(mini: Layout, typo: tuple[str, str, int, str]) -> None:
    old, new, line, field = typo
    _edit(mini, R, old, new)
    problems = check_dataset(mini).problems
    assert "internal-error" not in {p.type for p in problems}
    [problem] = [p for p in problems if p.file == R]
    assert (problem.line, problem.type) == (line, "unknown-field")
    assert problem.message.endswith(f"did you mean '{field}'?")


def test_an_ambiguous_value_where_a_list_belongs_is_one_message_not_a_crash(mini: Layout) -> None:
    path = mini.root / R
    text = path.read_text(encoding="utf-8")
    path.write_text(text[:text.index("    quotes:\n")] + "    quotes: NO\n", encoding="utf-8")
    assert [line.split("] ")[0] for line in _lines(mini)] == [f"{R}:25:13: [ambiguous-value"]


def test_an_unknown_field_with_no_close_match_lists_the_fields_allowed(mini: Layout) -> None:
    [line] = _record(mini, "  place: Minsk", "  place: Minsk\n  mayor: nobody")
    assert line == f"{R}:12:3: [unknown-field] unknown field 'mayor' in location; the fields allowed here are: country, place"


def test_a_missing_field_points_at_its_parent_and_says_what_it_is(mini: Layout) -> None:
    [line] = _record(mini, "    role: Deputy Special Envoy\n", "")
    assert line == (f"{R}:14:5: [missing-field] officials.0 (official 1) needs the field 'role'. Expected: The role the "
                    "person held "
                    "at the time of the event, in English, as the sources give it.")


def test_a_release_with_no_number_needs_one(mini: Layout) -> None:
    [line] = _record(mini, "  count: 52\n", "")
    assert line == f"{R}:18:3: [missing-field] release needs at least one of: count, low, high, words"


def test_format_is_checked(mini: Layout) -> None:
    [line] = _record(mini, "  precision: day", "  precision: day\n  earliest: '2025-13-45'")
    assert line.startswith(f"{R}:5:13: [schema] date.earliest: \"2025-13-45\" is not a real date (YYYY-MM-DD).")


def test_a_range_date_may_not_have_a_value(mini: Layout) -> None:
    [line] = _record(mini, "  precision: day", "  precision: range\n  earliest: '2025-09-11'")
    assert line == f"{R}:3:3: [schema] date: leave out value here"


def test_long_values_are_shortened_and_never_shown_as_python_reprs(mini: Layout) -> None:
    long_title = "A" * 250
    [line] = _record(mini, "title: John Coale meets Lukashenko in Minsk; 52 prisoners released", f"title: {long_title}")
    assert line == (f"{R}:5:8: [schema] title: is longer than 200 characters (250); shorten it. "
                    "Expected: English headline for the event, one line, without a trailing full stop.")


def test_an_ambiguous_count_gets_one_message_not_two(mini: Layout) -> None:
    lines = _record(mini, "count: 52", "count: 52.0")
    assert [line.split("] ")[0] for line in lines] == [f"{R}:19:10: [ambiguous-value"]


# Rules inside one record


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("id: 2025-09-11-coale-minsk-release", "id: 2025-09-11-coale-visits-minsk",
     "1:5: [id-mismatch] the id is '2025-09-11-coale-visits-minsk' but the file is named "
     "'2025-09-11-coale-minsk-release.yml'; the id must be the file name without .yml: fix the id, or rename the file"),
    ("  value: '2025-09-11'\n  precision: day", "  precision: range\n  earliest: '2025-09-11'\n  latest: '2025-09-01'",
     "5:11: [date-mismatch] latest (2025-09-01) is before earliest (2025-09-11); swap them or correct one"),
    ("  precision: day", "  precision: day\n  latest: '2025-09-10'",
     "3:10: [date-mismatch] the value 2025-09-11 lies outside earliest..latest (… to 2025-09-10); "
     "correct the value or the bounds"),
    ("  value: '2025-09-11'\n  precision: day", "  value: '2025-08'\n  precision: month",
     "1:5: [date-mismatch] the id starts with 2025-09-11 but the event date is between 2025-08-01 and 2025-08-31; "
     "start the id (and file name) with the event date, or its first possible day"),
    ("  value: '2025-09-11'\n  precision: day", "  value: '0000'\n  precision: year",
     "3:10: [date-mismatch] 0000 is not a real date; correct the year"),
    ("release.status, release.count]", "release.status, release.count, release.high]",
     "31:51: [bad-support] this quote says it supports 'release.high', which the record does not state"),
    ("supports: [event, date, location, officials.john-coale]", "supports: [event, date, officials.john-coale]",
     "11:3: [fact-unsupported] no quote supports 'location'; add it to the supports of the quote that shows it"),
])
def test_record_rules(mini: Layout, old: str, new: str, expected: str) -> None:
    assert _record(mini, old, new) == [f"{R}:{expected}"]


@pytest.mark.parametrize(("old", "new", "expected"), [
    ("  count: 52\n  qualifier: exact", "  qualifier: about\n  low: 60\n  high: 50",
     "20:8: [count-range] low (60) is greater than high (50); correct one of them"),
    ("  foreign_nationals: 14", "  foreign_nationals: 14\n  high: 50",
     "19:10: [count-range] count (52) is greater than high (50); correct one of them"),
    ("  count: 52\n", "  low: 50\n",
     "18:3: [count-range] qualifier exact needs a count; add release.count or change the qualifier"),
])
def test_count_rules(mini: Layout, old: str, new: str, expected: str) -> None:
    assert f"{R}:{expected}" in _record(mini, old, new)


def test_record_rules_wait_for_the_schema(mini: Layout) -> None:
    # a count of the wrong type would crash the count rules; they run only on records that pass the schema
    assert [line.split("] ")[0] for line in _record(mini, "count: 52", "count: [52]")] == [f"{R}:19:10: [schema"]


# Rules across records and registries


def test_the_same_id_in_two_files_names_both(mini: Layout) -> None:
    (mini.records / "2025-09-11-coale-visits-minsk.yml").write_bytes((mini.root / R).read_bytes())
    assert _lines(mini) == [
        "records/2025-09-11-coale-visits-minsk.yml:1:5: [duplicate-id] the id '2025-09-11-coale-minsk-release' is already "
        f"the id of {R}; give this record its own id and name the file after it"]


def test_a_record_file_with_another_extension_is_reported(mini: Layout) -> None:
    (mini.records / "notes.yaml").write_text("id: x\n", encoding="utf-8")
    assert _lines(mini) == [
        "records/notes.yaml:0:0: [bad-file-name] records are named ID.yml (lower-case letters, digits and hyphens, "
        "ending in .yml); rename it to notes.yml (and make its id notes)"]


def test_a_person_listed_twice_in_the_registry(mini: Layout) -> None:
    path = mini.root / "registry/people.yml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text + text.split("people:\n", 1)[1], encoding="utf-8")
    expected = "registry/people.yml:17:9: [duplicate-id] 'john-coale' is listed twice (first at line 2); keep one entry"
    assert expected in _lines(mini)


def test_a_source_file_not_in_the_registry_is_reported(mini: Layout) -> None:
    (mini.sources / "005_new.txt").write_text("Новый текст.\n", encoding="utf-8")
    assert _lines(mini) == [
        "registry/sources.yml:1:1: [unknown-source] sources/005_new.txt is not listed here; add an entry for it"]


def test_a_registry_entry_for_a_missing_file_is_reported(mini: Layout) -> None:
    (mini.sources / SOURCE).unlink()
    assert (f"registry/sources.yml:2:11: [unknown-source] there is no file sources/{SOURCE}; "
            "add the file or fix the name") in _lines(mini)


def test_a_missing_registry_is_reported(mini: Layout) -> None:
    (mini.root / "registry/people.yml").unlink()
    assert _lines(mini) == [
        "registry/people.yml:0:0: [missing-file] registry/people.yml is missing; restore it from the main branch"]


def test_a_broken_registry_hides_no_other_problem(mini: Layout) -> None:
    _edit(mini, "registry/people.yml", "    roles:", "    rolez:")
    _edit(mini, BASE_TARGET, "на свободу вышли", "на свободу вышла")
    _edit(mini, BASE_TARGET, "file: 004_89c879bc2f5c7943.txt", "file: 005_89c879bc2f5c7943.txt")
    types = [line.split(" [")[1].split("]")[0] for line in _lines(mini)]
    assert types == ["unknown-source", "unknown-field", "unused-entry"]  # 004 is no longer cited
    _edit(mini, BASE_TARGET, "file: 005_89c879bc2f5c7943.txt", "file: 004_89c879bc2f5c7943.txt")
    assert [line.split(" [")[1].split("]")[0] for line in _lines(mini)] == ["quote-not-found", "unknown-field"]


def test_a_broken_sources_registry_still_checks_people(mini: Layout) -> None:
    _edit(mini, "registry/sources.yml", "    language: ru", "    language: russian")
    _edit(mini, BASE_TARGET, "person: john-coale", "person: jon-coale")
    _edit(mini, BASE_TARGET, "officials.john-coale", "officials.jon-coale")
    assert [line.split(" [")[1].split("]")[0] for line in _lines(mini)] == ["unknown-person", "unused-entry", "schema"]


# Nothing escapes as a traceback


def test_an_unexpected_exception_becomes_a_located_internal_error(mini: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> list[Problem]:
        raise KeyError("boom")

    monkeypatch.setattr(per_file, "validate_loaded", broken)
    monkeypatch.setattr(check_module, "crossref_problems", broken)
    result = CliRunner().invoke(cli, ["validate", "--root", str(mini.root)])
    assert result.exit_code == 1 and "Traceback" not in result.output and "boom" not in result.output
    assert f"{R}:1:1: [internal-error] the checker failed on this file (KeyError); please report this, attaching the file" \
        in result.output.splitlines()
    assert "registry/sources.yml:1:1: [internal-error]" in result.output


def test_problems_are_sorted_and_each_reported_once(mini: Layout) -> None:
    _edit(mini, R, "  place: Minsk", "  place: Min\u200bsk\n  plase: x")
    problems = check_dataset(mini).problems
    assert problems == sorted(set(problems))


def test_every_message_says_what_to_do_and_shows_no_python() -> None:
    repr_like = re.compile(r"\\x|\\u|\bNone\b|<class|Traceback|\[\]|\{\}")
    for slug, explanation in TYPES.items():
        assert re.fullmatch(r"[a-z]+(-[a-z0-9]+)*", slug)
        assert explanation.endswith(".") and not repr_like.search(explanation), slug


def test_every_corpus_message_is_actionable() -> None:
    from corpus import invalid_cases

    verbs = re.compile(r"\b(delete|put|write|save|remove|keep|add|fix|check|copy|quote|reword|retype|rename|give|start|"
                       r"split|swap|correct|restore|indent|close|cite|replace|move|did you mean|leave out|shorten|Expected)\b")
    for case in invalid_cases():
        for line in case.expected:
            message = line.split("] ", 1)[1]
            assert verbs.search(message), f"{case.name}: {message}"
            assert "Traceback" not in message and not re.search(r"<[a-z]|\\x[0-9a-f]{2}|\\u[0-9a-f]{4}", message), message


# Facts no stronger than their words


def test_an_official_basis_lets_a_quote_identify_them_without_the_name(mini: Layout) -> None:
    _edit(mini, R, "supports: [release.status, release.count]", "supports: [release.status, release.count, officials.john-coale]")
    assert [line.split("] ")[0].split(": [")[1] for line in _lines(mini)] == ["official-not-named"]
    assert _record(mini, "    side: us\n", "    side: us\n    basis: The quote follows the one that names him.\n") == []


def test_names_are_whole_registered_words_in_any_case() -> None:
    from belarus_releases.check.officials import names_any

    assert names_any("встретился с Лукашенко.", ["лукашенко"])
    assert names_any("ЛУКАШЕНКО сказал", ["лукашенко"])
    assert not names_any("встретился с Лукашенком", ["лукашенко"])  # another case form, registered on its own
    assert names_any("с «Джоном  Коулом»", ["джоном коулом"])  # spacing and quote marks as quotes are compared


@pytest.mark.parametrize(("old", "new", "expected"), [
    # a bound is never worked out, whatever count_basis says
    ("  foreign_nationals: 14", "  foreign_nationals: 14\n  high: 60\n  count_basis: Counted from the words.",
     "22:9: [figure-not-quoted]"),
    # a count worked out in count_basis is not exact; at-least is what the words allow
    ("В тот же день на свободу вышли 52 заключённых.", "В тот же день на свободу вышли",
     "20:14: [exact-not-earned]"),
])
def test_numbers_need_their_words(mini: Layout, old: str, new: str, expected: str) -> None:
    if "high" in new:
        _edit(mini, R, "supports: [release.status, release.count]", "supports: [release.status, release.count, release.high]")
    else:
        _edit(mini, R, "  foreign_nationals: 14", "  foreign_nationals: 14\n  count_basis: Worked out.")
    lines = _record(mini, old, new)
    assert [line.split("] ")[0] + "]" for line in lines] == [f"{R}:{expected}"]
