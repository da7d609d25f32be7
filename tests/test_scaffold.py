"""`new`: a record started from a date and a slug has every required field, validates once its blanks are filled,
and never overwrites another record."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import belarus_releases.cli as cli_module
from belarus_releases.check.dataset import check_dataset
from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from corpus import BASE_ID, SOURCE, make_mini

QUOTE = "11 сентября в Минске Александр Лукашенко встретился с заместителем спецпредставителя Келлога Джоном Коулом."
FILLED = {"title": "John Coale meets Lukashenko in Minsk again", "summary": "A second meeting, for the test.",
          "file": SOURCE, "text": f"'{QUOTE}'"}


@pytest.fixture
def mini(repo: Layout) -> Layout:
    return make_mini(repo)


def _new(layout: Layout, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["new", "--root", str(layout.root), *args], input=stdin)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def _fill(text: str) -> str:
    for field, value in FILLED.items():
        text = re.sub(rf"^(\s*(?:- )?{field}:)  # .*$", rf"\1 {value}", text, count=1, flags=re.MULTILINE)
    return text.replace("types: []", "types: [meeting]")


def test_new_writes_a_record_that_validates_once_its_blanks_are_filled(mini: Layout) -> None:
    assert _new(mini, "--date", "2025-09-11", "--slug", "coale-meets-lukashenko-again") == (
        0, "Created records/2025-09-11-coale-meets-lukashenko-again.yml: fill in the blanks, then run "
           "`belarus-releases validate`.\n")
    path = mini.records / "2025-09-11-coale-meets-lukashenko-again.yml"
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../schema/record.schema.json\n")
    blanks = [f"{p.type}] {p.message}" for p in check_dataset(mini).problems]
    assert blanks == ["schema] title: is blank; write text here. Expected: English headline for the event, one line, "
                      "without a trailing full stop.",
                      "schema] summary: is blank; write text here. Expected: English summary of what happened, in one "
                      "to three sentences, saying only what the quotes support.",
                      "schema] types: must not be empty. Expected: What kind of event this is; several may apply, for "
                      "example [visit, release].",
                      "schema] sources.0.file (source 1): is blank; write text here. Expected: File name of a source "
                      "document under sources/: a .txt name with no folder, for example 004_89c879bc2f5c7943.txt.",
                      "schema] sources.0.quotes.0.text (source 1, quote 1): is blank; write text here. Expected: The "
                      "exact words of the source, copied in its original language; spaces and quote-mark styles may differ."]
    path.write_text(_fill(text), encoding="utf-8")
    result = check_dataset(mini)
    assert result.ok, [p.to_text() for p in result.problems]


@pytest.mark.parametrize(("date", "precision", "first_day"), [("2025-09", "month", "2025-09-01"), ("2025", "year", "2025-01-01")])
def test_a_date_less_precise_than_a_day_starts_the_id_with_its_first_day(mini: Layout, date: str, precision: str,
                                                                         first_day: str) -> None:
    assert _new(mini, "--date", date, "--slug", "x")[0] == 0
    text = (mini.records / f"{first_day}-x.yml").read_text(encoding="utf-8")
    assert f"  value: '{date}'\n  precision: {precision}\n" in text


def test_an_existing_id_is_refused_and_the_record_is_untouched(mini: Layout) -> None:
    path = mini.records / f"{BASE_ID}.yml"
    before = path.read_bytes()
    assert _new(mini, "--date", "2025-09-11", "--slug", "coale-minsk-release") == (
        1, f"Error: records/{BASE_ID}.yml already exists; choose another slug, or edit that record\n")
    assert path.read_bytes() == before


@pytest.mark.parametrize(("args", "message"), [
    (["--date", "11.09.2025", "--slug", "x"], "Error: '11.09.2025' is not a date; write YYYY-MM-DD, YYYY-MM or YYYY\n"),
    (["--date", "2025-02-30", "--slug", "x"], "Error: '2025-02-30' is not a real date; check the month and day\n"),
    (["--date", "2025-13", "--slug", "x"], "Error: '2025-13' is not a real date; check the month and day\n"),
    (["--date", "2025-09-11", "--slug", "Coale Visit"],
     "Error: 'Coale Visit' is not a slug; use lower-case letters, digits and hyphens, for example coale-visits-minsk\n"),
])
def test_a_bad_date_or_slug_is_refused_with_what_to_write(mini: Layout, args: list[str], message: str) -> None:
    assert _new(mini, *args) == (1, message)
    assert len(list(mini.records.iterdir())) == 1


def test_without_a_terminal_missing_options_are_a_usage_error(mini: Layout) -> None:
    code, output = _new(mini, "--slug", "x")
    assert code == 2 and output.endswith("Error: give --date (or run the command in a terminal to be asked)\n")


def test_in_a_terminal_it_asks_for_what_is_missing(mini: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli_module, "_interactive", lambda: True)
    code, output = _new(mini, stdin="2025-09-12\ncoale-returns\n")
    assert code == 0, output
    assert "Date of the event (YYYY-MM-DD, YYYY-MM or YYYY): " in output
    assert (mini.records / "2025-09-12-coale-returns.yml").is_file()


# add-source

ARTICLE = "Лукашенко помиловал 52 человека.\n\nОб этом сообщает пресс-служба.\n"


def _add(layout: Layout, document: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["add-source", "--root", str(layout.root), str(document), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def test_add_source_copies_the_document_under_the_naming_rule_and_lists_it(mini: Layout, tmp_path: Path) -> None:
    document = tmp_path / "article.txt"
    document.write_text(ARTICLE, encoding="utf-8")
    digest = hashlib.sha256(ARTICLE.encode()).hexdigest()
    name = f"005_{digest[:16]}.txt"  # the mini dataset's one source is number 004
    assert _add(mini, document, "--title", 'Лукашенко помиловал: "52"', "--language", "ru", "--url",
                "https://example.org/a", "--retrieved", "2025-09-12") == (
        0, f"Added sources/{name} and its entry in registry/sources.yml; cite it from a record as `file: {name}`.\n")
    assert (mini.sources / name).read_bytes() == ARTICLE.encode()
    registry = yaml.safe_load(mini.source_registry.read_text(encoding="utf-8"))["sources"]
    assert registry[-1] == {"file": name, "sha256": digest, "title": 'Лукашенко помиловал: "52"', "language": "ru",
                            "url": "https://example.org/a", "retrieved": "2025-09-12"}
    # the new source validates; only citing it is left to do
    assert [p.to_text() for p in check_dataset(mini).problems] == [
        f"registry/sources.yml:{len(mini.source_registry.read_text(encoding='utf-8').splitlines()) - 5}:11: "
        f"[unused-entry] '{name}': no record cites this source; cite it from a record or remove it"]


def test_numbers_go_on_past_999(mini: Layout, tmp_path: Path) -> None:
    (mini.sources / "1000_0123456789abcdef.txt").write_text("Старый текст.\n", encoding="utf-8")
    document = tmp_path / "article.txt"
    document.write_text(ARTICLE, encoding="utf-8")
    assert _add(mini, document, "--title", "t", "--language", "ru")[0] == 0
    assert (mini.sources / f"1001_{hashlib.sha256(ARTICLE.encode()).hexdigest()[:16]}.txt").is_file()


def test_add_source_refuses_a_document_already_in_sources(mini: Layout, tmp_path: Path) -> None:
    document = tmp_path / "again.txt"
    shutil.copy(mini.sources / SOURCE, document)
    assert _add(mini, document, "--title", "x", "--language", "ru") == (
        1, f"Error: sources/{SOURCE} already holds this document; cite that file\n")


def test_add_source_refuses_a_document_validate_would_refuse_and_writes_nothing(mini: Layout, tmp_path: Path) -> None:
    document = tmp_path / "cp1251.txt"
    document.write_bytes("Минск".encode("cp1251"))
    registry = mini.source_registry.read_bytes()
    assert _add(mini, document, "--title", "x", "--language", "ru") == (
        1, "Error: the document cannot be added as it is:\ncp1251.txt:1:1: [not-utf8] byte 0xcc is not UTF-8 (is the file "
           "in cp1251 or another code page?); save it as UTF-8\n")
    assert mini.source_registry.read_bytes() == registry and [p.name for p in mini.sources.iterdir()] == [SOURCE]


def test_a_source_document_that_changed_is_reported(mini: Layout) -> None:
    path = mini.sources / SOURCE
    path.write_bytes(path.read_bytes() + b"\nAn edit.\n")
    problems = [p.to_text() for p in check_dataset(mini).problems]
    assert problems == [f"registry/sources.yml:3:13: [source-changed] sources/{SOURCE} no longer has the sha256 written "
                        "here; a source document never changes: restore it from the main branch, or add the new version "
                        "with `belarus-releases add-source`"]
