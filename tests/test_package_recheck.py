"""export/package_recheck.py: a package that differs from a release shown valid only in some tables' rows is shown
valid from what differs, and never when a changed or a linked table now has an error; anything it cannot compare
(the descriptor, a table's head) leaves the verdict to the full check.

A synthetic package, large enough that each table has a head (more than 100 lines and 100,000 bytes) and rows after
it: "people" (a primary key, an integer, a date) and "visits", whose foreign key refers to people."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from belarus_releases.export.package_check import Dialects, fast_verdict
from belarus_releases.export.package_recheck import HEAD_BYTES, HEAD_LINES, dialect_guess, shown_valid_again

ROWS = 6000
PEOPLE = "id,age,born,note\n" + "".join(f'p{n:05d},{n % 90},2000-01-{n % 28 + 1:02d},"a note, {"x" * 40}"\n'
                                        for n in range(ROWS))
VISITS = "person,day\n" + "".join(f"p{n:05d},2025-02-{n % 28 + 1:02d}\n" for n in range(ROWS))
DESCRIPTOR = {"profile": "tabular-data-package", "name": "test", "resources": [
    {"profile": "tabular-data-resource", "name": "people", "path": "people.csv", "format": "csv", "encoding": "utf-8",
     "mediatype": "text/csv",
     "schema": {"fields": [{"name": "id", "type": "string", "constraints": {"required": True}},
                           {"name": "age", "type": "integer"}, {"name": "born", "type": "date"},
                           {"name": "note", "type": "string"}], "missingValues": [""], "primaryKey": ["id"]}},
    {"profile": "tabular-data-resource", "name": "visits", "path": "visits.csv", "format": "csv", "encoding": "utf-8",
     "mediatype": "text/csv",
     "schema": {"fields": [{"name": "person", "type": "string", "constraints": {"required": True}},
                           {"name": "day", "type": "date"}], "missingValues": [""], "primaryKey": ["person", "day"],
                "foreignKeys": [{"fields": "person", "reference": {"resource": "people", "fields": "id"}}]}}]}
LAST = f"p{ROWS - 1:05d}"
LAST_ROW = f"{LAST},{(ROWS - 1) % 90},2000-01-{(ROWS - 1) % 28 + 1:02d},"


@pytest.fixture(scope="module")
def previous(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Dialects]:
    folder = tmp_path_factory.mktemp("previous")
    (folder / "people.csv").write_text(PEOPLE, encoding="utf-8", newline="")
    (folder / "visits.csv").write_text(VISITS, encoding="utf-8", newline="")
    (folder / "datapackage.json").write_text(json.dumps(DESCRIPTOR), encoding="utf-8")
    dialects = fast_verdict(folder / "datapackage.json", folder)
    assert dialects is not None and len(PEOPLE.encode()) > HEAD_BYTES and len(VISITS.encode()) > HEAD_BYTES
    return folder, dialects


def _next(previous: Path, folder: Path, changes: dict[str, Callable[[str], str]]) -> Path:
    """The previous package with `changes` made to some files; the others linked, as an incremental build does."""
    folder.mkdir()
    for name in os.listdir(previous):
        if name in changes:
            text = (previous / name).read_text(encoding="utf-8")
            assert changes[name](text) != text, "the change changed nothing"
            (folder / name).write_text(changes[name](text), encoding="utf-8", newline="")
        else:
            os.link(previous / name, folder / name)
    return folder / "datapackage.json"


def test_the_head_is_what_frictionless_reads_to_detect_a_dialect() -> None:
    from frictionless import settings
    from frictionless.formats.csv import parser

    assert (HEAD_BYTES, HEAD_LINES) == (settings.DEFAULT_BUFFER_SIZE, parser.SAMPLE_SIZE)


@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|", ", "])
def test_the_guess_compared_is_what_frictionless_reads_a_table_with(delimiter: str, tmp_path: Path) -> None:
    """Whichever delimiter Frictionless's parser guesses (and whether it skips initial spaces), the guess compared
    here maps to the dialect Frictionless reads the table with."""
    text = f"id{delimiter}note\n" + "".join(f'p{n:05d}{delimiter}"a note {n}"\n' for n in range(150))
    (tmp_path / "people.csv").write_text(text, encoding="utf-8", newline="")
    resource = {**DESCRIPTOR["resources"][0], "schema": {"fields": [{"name": "id", "type": "string"},
                                                                    {"name": "note", "type": "string"}]}}
    (tmp_path / "datapackage.json").write_text(json.dumps({**DESCRIPTOR, "resources": [resource]}), encoding="utf-8")
    dialects = fast_verdict(tmp_path / "datapackage.json", tmp_path)
    assert dialects is not None
    read = dialects["people"]
    assert dialect_guess(text.encode()) == (read["delimiter"], read["lineterminator"], read["escapechar"],
                                            read["quotechar"], read["skipinitialspace"])
    assert (read["delimiter"], read["skipinitialspace"]) == (delimiter[0], delimiter == ", ")


def test_rows_changed_after_the_head_are_shown_valid(previous: tuple[Path, Dialects], tmp_path: Path) -> None:
    folder, dialects = previous
    changes = {"people.csv": lambda text: text.replace(f"{LAST},", f"{LAST}x,") + f"{LAST}y,5,2001-02-03,\n",
               "visits.csv": lambda text: text.replace(f"{LAST},", f"{LAST}x,") + f"{LAST}y,2025-03-01\n"}
    descriptor = _next(folder, tmp_path / "next", changes)
    assert shown_valid_again(descriptor, descriptor.parent, folder, dialects) == dialects
    assert fast_verdict(descriptor, descriptor.parent) == dialects  # and the full check agrees
    linked = _next(folder, tmp_path / "same", {})
    assert shown_valid_again(linked, linked.parent, folder, dialects) == dialects


BROKEN: dict[str, tuple[str, Callable[[str], str]]] = {
    "a cell that is not an integer": ("people.csv", lambda text: text.replace(LAST_ROW, f"{LAST},x,2000-01-01,")),
    "an impossible date": ("people.csv", lambda text: text.replace(LAST_ROW, f"{LAST},1,2000-02-30,")),
    "a repeated key": ("people.csv", lambda text: text + f"{LAST},1,2000-01-01,\n"),
    "a quote left open": ("people.csv", lambda text: text.replace(LAST_ROW, f'"{LAST_ROW}')),
    "a row too short": ("visits.csv", lambda text: text + "p00001\n"),
    "a reference to no one, from a changed table": ("visits.csv", lambda text: text + "nobody,2025-01-01\n"),
    "a person referred to by a linked table, removed": ("people.csv", lambda text: text.replace(f"{LAST},", "p9,")),
    "another header": ("people.csv", lambda text: text.replace("id,age,born,note\n", "id,age,born,Note\n", 1)),
    "the head read with another dialect": ("people.csv", lambda text: _space_quoted(text)),
    "another descriptor": ("datapackage.json", lambda text: text.replace('"test"', '"other"')),
}


def _space_quoted(text: str) -> str:
    """The first rows' notes as ` "x"`: a space and a quoted x, as the recorded dialect reads them (no error), but
    from which csv.Sniffer guesses that initial spaces are skipped, so that Frictionless reads the notes as `x`."""
    lines = text.splitlines(keepends=True)
    return "".join([lines[0], *(line.split('"')[0] + ' "x"\n' for line in lines[1:HEAD_LINES]), *lines[HEAD_LINES:]])


def test_a_head_changed_is_shown_valid_when_frictionless_would_read_it_with_the_same_dialect(
        previous: tuple[Path, Dialects], tmp_path: Path) -> None:
    """A changed record among a table's first rows: Frictionless guesses the same dialect from the new head."""
    folder, dialects = previous
    descriptor = _next(folder, tmp_path / "next", {"people.csv": lambda text: text.replace('p00003,3,2000-01-04,"a note',
                                                                                             'p00003,3,2000-01-04,"other')})
    assert shown_valid_again(descriptor, descriptor.parent, folder, dialects) == dialects
    assert fast_verdict(descriptor, descriptor.parent) == dialects


def test_a_head_that_frictionless_would_read_with_another_dialect_is_not_shown_valid(
        previous: tuple[Path, Dialects], tmp_path: Path) -> None:
    """The rows are valid as the recorded dialect reads them, so only comparing the guesses refuses them."""
    folder, dialects = previous
    descriptor = _next(folder, tmp_path / "next", {"people.csv": _space_quoted})
    assert shown_valid_again(descriptor, descriptor.parent, folder, dialects) is None
    now = fast_verdict(descriptor, descriptor.parent)
    assert now is not None and now["people"] == {**dialects["people"], "skipinitialspace": True}


def test_a_head_changed_after_a_byte_order_mark_is_left_to_the_full_check(tmp_path: Path) -> None:
    """Frictionless reads a table that starts with a byte-order mark as UTF-8-SIG: its head is not guessed from here."""
    folder = tmp_path / "previous"
    folder.mkdir()
    (folder / "people.csv").write_text("\ufeff" + PEOPLE, encoding="utf-8", newline="")
    (folder / "visits.csv").write_text(VISITS, encoding="utf-8", newline="")
    (folder / "datapackage.json").write_text(json.dumps(DESCRIPTOR), encoding="utf-8")
    dialects = fast_verdict(folder / "datapackage.json", folder)
    assert dialects is not None and dialects["people"]["encoding"] == "utf-8-sig"
    descriptor = _next(folder, tmp_path / "next", {"people.csv": lambda text: text.replace(",\"a note, x", ",\"other, x", 1)})
    assert shown_valid_again(descriptor, descriptor.parent, folder, dialects) is None
    assert fast_verdict(descriptor, descriptor.parent) == dialects  # valid: only not compared


@pytest.mark.parametrize("broken", list(BROKEN))
def test_a_package_with_an_error_or_not_compared_is_not_shown_valid(broken: str, previous: tuple[Path, Dialects],
                                                                    tmp_path: Path) -> None:
    folder, dialects = previous
    name, change = BROKEN[broken]
    descriptor = _next(folder, tmp_path / "next", {name: change})
    assert shown_valid_again(descriptor, descriptor.parent, folder, dialects) is None


def test_no_recorded_dialect_is_not_shown_valid(previous: tuple[Path, Dialects], tmp_path: Path) -> None:
    folder, dialects = previous
    descriptor = _next(folder, tmp_path / "next", {})
    assert shown_valid_again(descriptor, descriptor.parent, folder, {"people": dialects["people"]}) is None
    shutil.rmtree(tmp_path / "next")


@pytest.mark.parametrize("declared", [True, False])
def test_a_small_table_is_compared_on_its_first_lines_when_its_encoding_is_declared(declared: bool,
                                                                                    tmp_path: Path) -> None:
    """Frictionless detects an undeclared encoding from a table's first 100,000 bytes, a declared one only by its
    first bytes (a byte-order mark): a short table with a row changed after its first 100 lines is compared only
    when its encoding is declared."""
    rows = 300
    last = f"p{rows - 1:05d}"
    folder = tmp_path / "previous"
    folder.mkdir()
    (folder / "people.csv").write_text("".join(PEOPLE.splitlines(keepends=True)[:rows + 1]), encoding="utf-8",
                                       newline="")
    (folder / "visits.csv").write_text("".join(VISITS.splitlines(keepends=True)[:rows + 1]), encoding="utf-8",
                                       newline="")
    descriptor = json.loads(json.dumps(DESCRIPTOR))
    if not declared:
        del descriptor["resources"][0]["encoding"]
    (folder / "datapackage.json").write_text(json.dumps(descriptor), encoding="utf-8")
    dialects = fast_verdict(folder / "datapackage.json", folder)
    assert dialects is not None
    changes = {name: (lambda text: text.replace(f"{last},", f"{last}x,")) for name in ("people.csv", "visits.csv")}
    new = _next(folder, tmp_path / "next", changes)
    assert (shown_valid_again(new, new.parent, folder, dialects) == dialects) is declared
    assert fast_verdict(new, new.parent) == dialects  # valid: only not compared without a declared encoding


@pytest.mark.parametrize(("linked_larger", "known"), [(True, False), (False, False), (True, True)])
def test_a_linked_table_is_read_or_the_previous_keys_whichever_is_smaller(linked_larger: bool, known: bool,
                                                                          previous: tuple[Path, Dialects],
                                                                          tmp_path: Path,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """visits referred to people's keys before; people changed: either visits is read again, or (when it is the
    larger file) the previous people.csv, whose keys must all still be there; or, when they are `known` (as the
    build knows the previous events' ids), neither."""
    from belarus_releases.export import package_recheck

    folder, dialects = previous
    read: list[str] = []
    real, real_size = package_recheck.check_rows, os.path.getsize

    def spy(columns: Any, path: str, *args: Any, **kwargs: Any) -> Any:
        read.append(path)
        return real(columns, path, *args, **kwargs)

    def size(path: Any) -> int:
        return 1 << 40 if linked_larger and str(path).endswith("visits.csv") else real_size(path)

    monkeypatch.setattr(package_recheck, "check_rows", spy)
    monkeypatch.setattr(os.path, "getsize", size)
    keys = {("people", ("id",)): {(f"p{n:05d}",) for n in range(ROWS)}} if known else None
    descriptor = _next(folder, tmp_path / "next", {"people.csv": lambda text: text + f"{LAST}y,5,2001-02-03,\n"})
    assert shown_valid_again(descriptor, descriptor.parent, folder, dialects, keys) == dialects
    expected = [("new", "people.csv"), *([] if known else [("previous", "people.csv")] if linked_larger
                                         else [("new", "visits.csv")])]
    assert sorted(("new" if Path(path).is_relative_to(tmp_path) else "previous", Path(path).name) for path in read) == expected
    gone = _next(folder, tmp_path / "gone", {"people.csv": lambda text: text.replace(f"{LAST},", "p9,")})
    assert shown_valid_again(gone, gone.parent, folder, dialects, keys) is None
