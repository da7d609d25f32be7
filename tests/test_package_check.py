"""export/package_check.py: the fast verdict shows the written package valid, and never a package with an error.

A cell, row or key that Frictionless finds an error in, and text that Frictionless accepts but the writers never
write ("+7", " 7", "2025-2-12"), must not be shown valid, so that Frictionless itself decides and words it
(test_write_datapackage.py checks its words through validate_package). Where Frictionless reads a table
differently from the writers (another delimiter, a byte-order mark), the verdict reads it as Frictionless does.
The checks of cells and keys are tested on their own; whole packages only for what needs Frictionless's reading."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from belarus_releases.export.package_check import NotShown, add_unique, check_cells, columns_of, shown_valid
from belarus_releases.layout import Layout
from test_write_datapackage import fixture_data, flatten_data, write_package

TYPES = {"id": "string", "count": "integer", "day": "date", "list": "array", "note": "string"}
GOOD = ("x", "-12", "2025-02-12", '["a","b"]', "")


@pytest.mark.parametrize(("column", "cell"), [
    ("count", "x"), ("count", "+7"), ("count", " 7"), ("count", "07"), ("count", "-0"), ("count", "1.0"), ("count", "٣"),
    ("day", "2025-2-12"), ("day", "2025-02-30"), ("day", "12.02.2025"), ("day", " 2025-02-12"),
    ("list", "visit"), ("list", '{"a": 1}'), ("list", "[oops"), ("id", ""),
])
def test_a_cell_that_is_not_canonical_is_not_shown_valid(column: str, cell: str) -> None:
    check_cells(list(zip(GOOD, strict=True)), TYPES, {"id"})
    row = [cell if name == column else value for name, value in zip(TYPES, GOOD, strict=True)]
    with pytest.raises(NotShown):
        check_cells(list(zip(row, strict=True)), TYPES, {"id"})


def test_rows_of_the_wrong_length_and_repeated_or_empty_keys_are_not_shown_valid() -> None:
    assert columns_of([["a", "1"], ["b", "2"]], 2) == [("a", "b"), ("1", "2")]
    for rows in ([["a", "1"], ["b"]], [["a", "1", "x"]], [["a"]]):
        with pytest.raises(NotShown):
            columns_of(rows, 2)
    with pytest.raises(NotShown):  # a blank row, in a table with no required column
        check_cells([("a", ""), ("1", "")], {"id": "string", "count": "integer"}, set())
    seen: set[tuple[str, ...]] = set()
    add_unique(seen, [("a", "b"), ("1", "1")], 2)
    for keys in ([("a",), ("1",)], [("c", "c"), ("1", "1")], [("",), ("",)]):
        with pytest.raises(NotShown):
            add_unique(set(seen), keys, len(keys[0]))


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("package")
    write_package(folder, Layout(Path(__file__).resolve().parent.parent), flatten_data(*fixture_data()))
    return folder


def _changed(written: Path, folder: Path, table: str, change: Callable[[str], str]) -> Path:
    shutil.copytree(written, folder)
    path = folder / f"{table}.csv"
    text = path.read_text(encoding="utf-8")
    assert change(text) != text, "the change changed nothing"
    path.write_text(change(text), encoding="utf-8", newline="")
    return folder / "datapackage.json"


SMITH = "2025-02-12-smith-visits-minsk"
BROKEN: dict[str, tuple[str, Callable[[str], str]]] = {
    "a reference to no event": ("event_types", lambda text: text.replace(f"{SMITH},meeting", "2025-01-01-no,meeting")),
    "a renamed header": ("event_types", lambda text: text.replace("event_id,type\n", "event_id,kind\n")),
    "a quote left open": ("event_types", lambda text: text.replace(f"{SMITH},meeting", f'"{SMITH},meeting')),
}


def test_the_written_package_is_shown_valid_and_a_broken_one_is_not(written: Path, tmp_path: Path) -> None:
    assert shown_valid(written / "datapackage.json", written)
    for number, (table, change) in enumerate(BROKEN.values()):
        folder = tmp_path / str(number)
        assert not shown_valid(_changed(written, folder, table, change), folder), list(BROKEN)[number]


def test_a_table_frictionless_reads_with_another_delimiter_is_read_as_it_does(written: Path, tmp_path: Path) -> None:
    from frictionless import Package

    folder = tmp_path / "package"
    descriptor = _changed(written, folder, "event_links", lambda text: text.replace(",", ";"))
    assert Package(str(descriptor), basepath=str(folder)).validate().valid
    assert shown_valid(descriptor, folder)
