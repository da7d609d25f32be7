"""export/files.py: CSV (RFC 4180, \\n, empty cells for nulls, text stays text) and JSON (sorted keys, real arrays)."""

from __future__ import annotations

import copy
import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from belarus_releases.export.files import (
    FAST_CSV,
    csv_cell,
    csv_lines,
    json_array,
    json_lines,
    stored,
    write_csv,
    write_json,
    write_table_files,
)
from belarus_releases.export.flatten import flatten_data
from belarus_releases.tables import BY_NAME, TABLES
from build_support import fixture_data

TRICKY_NOTES = 'Line one, with a comma\nline two with "quotes"'


@pytest.fixture(scope="module")
def tables() -> dict[str, list[dict[str, Any]]]:
    records, people, sources = fixture_data()
    records = copy.deepcopy(records)
    records[0]["notes"] = "007"  # text that looks like a number
    records[0]["location"]["place"] = "0012"
    records[1]["notes"] = TRICKY_NOTES
    return flatten_data(records, people, sources)


@pytest.fixture(scope="module")
def written(tables: dict[str, list[dict[str, Any]]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tables")
    for table in TABLES:
        paths = write_table_files(table, tables[table.name], folder)
        assert paths == [folder / f"{table.name}.csv", folder / f"{table.name}.json"]
    return folder


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_header_is_the_column_list_and_every_row_is_there(written: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        with (written / f"{table.name}.csv").open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        assert rows[0] == table.column_names
        assert len(rows) - 1 == len(tables[table.name])


def test_csv_round_trips_every_value(written: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        for original, read in zip(tables[table.name], read_csv(written / f"{table.name}.csv"), strict=True):
            for column in table.columns:
                value = original[column.name]
                if value is None:
                    assert read[column.name] == ""
                elif column.type == "array":
                    assert json.loads(read[column.name]) == value
                elif column.type == "integer":
                    assert read[column.name] == str(value) and int(read[column.name]) == value
                else:
                    assert read[column.name] == value


def test_csv_keeps_number_like_text_as_written(written: Path) -> None:
    [event] = [row for row in read_csv(written / "events.csv") if row["id"] == "2025-02-12-smith-visits-minsk"]
    assert event["notes"] == "007"
    assert event["location_place"] == "0012"
    assert event["release_count"] == "3"


def test_csv_uses_lf_line_endings_and_rfc4180_quoting(written: Path) -> None:
    raw = (written / "events.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    assert not raw.startswith(b"\xef\xbb\xbf")
    assert b'"Line one, with a comma\nline two with ""quotes"""' in raw
    [event] = [row for row in read_csv(written / "events.csv") if row["id"] == "2025-06-21-kellogg-visits-minsk"]
    assert event["notes"] == TRICKY_NOTES


def test_csv_cell() -> None:
    assert csv_cell(None, "string") == ""
    assert csv_cell("007", "string") == "007"
    assert csv_cell(52, "integer") == "52"
    assert csv_cell(["NA", "BY"], "array") == '["NA","BY"]'
    assert csv_cell(["Укрінформ"], "array") == '["Укрінформ"]'


def test_json_round_trips_rows_with_real_types(written: Path, tables: dict[str, list[dict[str, Any]]]) -> None:
    for table in TABLES:
        assert json.loads((written / f"{table.name}.json").read_text(encoding="utf-8")) == tables[table.name]
    events = json.loads((written / "events.json").read_text(encoding="utf-8"))
    smith = next(row for row in events if row["id"] == "2025-02-12-smith-visits-minsk")
    assert smith["notes"] == "007" and smith["release_count"] == 3 and smith["types"] == ["visit", "meeting", "release"]
    assert smith["date_earliest"] is None


def test_json_has_sorted_keys_and_unescaped_text(written: Path) -> None:
    text = (written / "people.json").read_text(encoding="utf-8")
    assert "Джон Коул" in text and "\\u04" not in text
    for line in text.splitlines()[1:-1]:
        keys = list(json.loads(line.rstrip(",")))
        assert keys == sorted(keys)


def test_empty_tables_are_valid_files(tmp_path: Path) -> None:
    table = BY_NAME["released_people"]
    assert json.loads(write_json([], tmp_path / "x.json").read_text(encoding="utf-8")) == []
    assert write_csv(table, [], tmp_path / "x.csv").read_text(encoding="utf-8") == "event_id,person_id\n"


def test_same_rows_give_the_same_bytes(tables: dict[str, list[dict[str, Any]]], tmp_path: Path) -> None:
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        for table in TABLES:
            write_table_files(table, tables[table.name], tmp_path / name)
    for path in sorted((tmp_path / "a").iterdir()):
        assert path.read_bytes() == (tmp_path / "b" / path.name).read_bytes(), path.name


def test_csv_loads_with_stdlib_reader_from_text(written: Path) -> None:
    """The whole file parses as CSV with the default dialect (what pandas, R and DuckDB expect)."""
    text = (written / "quotes.csv").read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert all(len(row) == len(BY_NAME["quotes"].columns) for row in rows)


VALUES = st.one_of(st.none(), st.integers(), st.text(), st.lists(st.text(), max_size=3))
HOSTILE = st.text(alphabet=st.sampled_from(list(',"\n\r\t \x0b\x85\u2028\ufeff=+-@aЖ\\/')), max_size=8)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.one_of(HOSTILE, st.text()), st.one_of(st.none(), st.integers()), VALUES, HOSTILE,
                          st.lists(st.one_of(HOSTILE, st.text()), max_size=3)), max_size=4))
def test_the_fast_writers_write_what_the_csv_and_json_modules_write(rows: list[tuple[Any, ...]]) -> None:
    """Quotes' columns (text, integer, text, text, array), with any values, against the reference writers."""
    table = BY_NAME["quotes"]
    assert FAST_CSV  # this Python's csv module quotes as files.py does, so the fast path is what is tested
    types = [column.type for column in table.columns]
    reference = io.StringIO()
    csv.writer(reference, lineterminator="\n", quoting=csv.QUOTE_MINIMAL, strict=True).writerows(
        [csv_cell(value, type_ if isinstance(value, list) else "string") for value, type_ in zip(row, types, strict=True)]
        for row in rows)
    assert csv_lines(list(stored(table, rows))) == reference.getvalue()
    assert list(json_lines(table, rows)) == [json.dumps(dict(zip(table.column_names, row, strict=True)), ensure_ascii=False,
                                                        sort_keys=True) for row in rows]
    assert [json_array(row[4]) for row in rows] == [json.dumps(row[4], ensure_ascii=False, separators=(",", ":"))
                                                    for row in rows]
