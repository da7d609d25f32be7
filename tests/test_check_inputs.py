"""Inputs tried hard (Reliability 2): every file under records/ is a record or a problem; registries, schemas and
sources are read as strictly as records; blank text supports nothing; output cannot be forged or flooded."""

from __future__ import annotations

import shutil

import jsonschema
import pytest
from click.testing import CliRunner

from belarus_releases.check.dataset import MAX_PER_FILE, check_dataset
from belarus_releases.check.files import checked_schema
from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from corpus import BASE_RECORD, BASE_TARGET, SOURCE, make_mini

QUOTE = "          заместителем спецпредставителя Келлога Джоном Коулом."


@pytest.fixture
def mini(repo: Layout) -> Layout:
    return make_mini(repo)


def _lines(layout: Layout) -> list[str]:
    return [problem.to_text() for problem in check_dataset(layout).problems]


def _edit(layout: Layout, relative: str, old: str, new: str) -> None:
    path = layout.root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# Files silently ignored

NAMED = "records are named ID.yml (lower-case letters, digits and hyphens, ending in .yml)"


@pytest.mark.parametrize(("name", "advice"), [
    ("2025-09-12-x.YML", "rename it to 2025-09-12-x.yml (and make its id 2025-09-12-x)"),
    ("2025-09-12-x.yml ", "rename it to 2025-09-12-x.yml (and make its id 2025-09-12-x)"),
    ("2025-09-12 x.yml", "rename it to 2025-09-12-x.yml (and make its id 2025-09-12-x)"),
    (".2025-09-12-x.yml", "rename it to 2025-09-12-x.yml (and make its id 2025-09-12-x)"),
    ("README.txt", "rename it to readme-txt.yml (and make its id readme-txt)"),
])
def test_every_file_under_records_is_a_record_or_a_problem(mini: Layout, name: str, advice: str) -> None:
    (mini.records / name).write_text("id: x\n", encoding="utf-8")
    assert _lines(mini) == [f"records/{name}:0:0: [bad-file-name] {NAMED}; {advice}"]


def test_a_record_in_a_sub_folder_is_a_problem(mini: Layout) -> None:
    (mini.records / "2025").mkdir()
    shutil.copy(BASE_RECORD, mini.records / "2025" / "2025-09-12-x.yml")
    assert _lines(mini) == ["records/2025:0:0: [bad-file-name] records/ holds record files only, not folders; "
                            "move the records in it up into records/"]


# Every input file, not only records, must be the file itself

@pytest.mark.parametrize("registry", ["people", "sources"])
def test_a_symlinked_registry_is_refused(mini: Layout, registry: str) -> None:
    path = mini.root / "registry" / f"{registry}.yml"
    outside = mini.root.parent / f"{registry}.yml"
    shutil.move(path, outside)
    path.symlink_to(outside)
    assert f"registry/{registry}.yml:0:0: [unsafe-path] registry/{registry}.yml is a symbolic link; replace it with " \
           "the file itself" in _lines(mini)


@pytest.mark.parametrize(("damage", "reason"), [("missing", "is missing"), ("not json", "is not JSON"),
                                                 ("not a schema", "is not a valid JSON Schema")])
def test_an_unusable_schema_is_one_problem_that_says_what(mini: Layout, damage: str, reason: str) -> None:
    path = mini.schema("record")
    if damage == "missing":
        path.unlink()
    else:
        path.write_text("{" if damage == "not json" else '{"type": 12}', encoding="utf-8")
    assert _lines(mini) == [f"schema/record.schema.json:0:0: [missing-file] schema/record.schema.json {reason}; "
                            "restore it from the main branch"]


# Sources are read as strictly as records

@pytest.mark.parametrize(("content", "expected"), [
    (b"\xef\xbb\xbf\xd0\x9c", "1:1: [byte-order-mark] the file starts with a UTF-8 byte-order mark (U+FEFF); save it "
                             "without one"),
    ("Минск".encode("utf-16"), "1:1: [not-utf8] the file is UTF-16; save it as UTF-8"),
    (b"line\n\xcf\xf0\xe8", "2:1: [not-utf8] byte 0xcf is not UTF-8 (is the file in cp1251 or another code page?); "
                           "save it as UTF-8"),
    (b"  \n", "1:1: [empty-file] the source document is empty; copy the article's text into it"),
    (b"text\x00more", "1:5: [control-character] U+0000 here; delete it"),
])
def test_a_source_that_does_not_read_cleanly_is_reported_on_the_source(mini: Layout, content: bytes, expected: str) -> None:
    (mini.sources / SOURCE).write_bytes(content)
    assert _lines(mini) == [f"sources/{SOURCE}:{expected}"]  # and no quote-not-found for every quote citing it


# Blank text supports nothing

@pytest.mark.parametrize("blank", ["'            '", '"\\u00a0\\u3000\\u00a0\\u3000\\u00a0\\u3000\\u00a0\\u3000\\u00a0\\u3000"',
                                   "'« » « » « » « »'"])
def test_a_quote_of_only_spaces_or_quote_marks_is_refused(mini: Layout, blank: str) -> None:
    _edit(mini, BASE_TARGET, ">-\n          11 сентября в Минске Александр Лукашенко встретился с\n" + QUOTE, blank)
    assert _lines(mini) == [f"{BASE_TARGET}:26:15: [no-words] sources.0.quotes.0.text (source 1, quote 1) has no letters "
                            "or digits; "
                            "write the words, or remove the field"]


def test_a_name_form_of_only_spaces_is_refused(mini: Layout) -> None:
    _edit(mini, "registry/people.yml", "      - text: Джоном Коулом", "      - text: '\u00a0 '")
    assert _lines(mini) == ["registry/people.yml:7:15: [no-words] people.0.variants.0.text (person 1, variant 1) has no "
                            "letters or digits; "
                            "write the words, or remove the field"]


# Output that can be forged or flooded

def test_a_line_break_in_a_file_name_cannot_forge_a_problem_line(mini: Layout) -> None:
    (mini.records / "x\ny.yml:1:1: [schema] forged.yml").write_text("id: x\n", encoding="utf-8")
    output = CliRunner().invoke(cli, ["validate", "--root", str(mini.root)]).output
    assert output.splitlines()[0].startswith("records/x\\ny.yml:1:1: [schema] forged.yml:0:0: [bad-file-name]")
    assert len(output.splitlines()) == 2


def test_problems_are_capped_per_file(mini: Layout) -> None:
    officials = "".join(f"  - person: p{number}\n    role: r\n    side: nobody\n" for number in range(60))
    _edit(mini, BASE_TARGET, "officials:\n", "officials:\n" + officials)
    lines = [line for line in _lines(mini) if line.startswith(BASE_TARGET)]
    assert len(lines) == MAX_PER_FILE + 1
    assert lines[0].startswith(f"{BASE_TARGET}:0:0: [too-many-problems] and ")
    assert lines[0].endswith(" more problems in this file not shown; fix the ones above and validate again")


def test_a_list_beyond_its_bound_gets_one_message_and_no_pairwise_comparison(mini: Layout) -> None:
    official = "  - person: john-coale\n    role: r\n    side: us\n"
    _edit(mini, BASE_TARGET, "officials:\n", "officials:\n" + official * 3000)
    schema_lines = [line for line in _lines(mini) if "[schema]" in line]
    assert len(schema_lines) == 1 and "officials: has more than 50 items" in schema_lines[0]


def test_a_runaway_list_is_refused_while_reading(mini: Layout) -> None:
    path = mini.root / BASE_TARGET
    path.write_text(path.read_text(encoding="utf-8") + "extra: [" + "1," * 20_001 + "1]\n", encoding="utf-8")
    assert [line.split(" [")[1].split("]")[0] for line in _lines(mini)] == ["too-many-items"]


# Messages a non-programmer can act on

def test_bad_support_suggests_the_fact_meant(mini: Layout) -> None:
    _edit(mini, BASE_TARGET, "supports: [event, date, location, officials.john-coale]",
          "supports: [event, date, location, officials.jon-coale, officials.john-coale]")
    assert _lines(mini) == [f"{BASE_TARGET}:29:43: [bad-support] this quote says it supports 'officials.jon-coale', which "
                            "the record does not state; did you mean 'officials.john-coale'?"]


def test_a_schema_is_meta_checked_once_per_text_and_a_broken_one_every_time(mini: Layout) -> None:
    text = mini.schema("record").read_text(encoding="utf-8")
    assert checked_schema(text) is checked_schema(text)
    mini.schema("record").write_text('{"type": 12}', encoding="utf-8")
    for _ in range(2):  # an error is never remembered
        with pytest.raises(jsonschema.SchemaError):
            checked_schema('{"type": 12}')
        assert [p.type for p in check_dataset(mini).problems] == ["missing-file"]
