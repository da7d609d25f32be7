"""The release's downloads: Parquet files with the database's rows and declared types, and the package zip,
which validates with Frictionless once unzipped."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import zipfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from frictionless import Package

from belarus_releases.export.downloads import PACKAGE_ZIP, ZIPPED, table_files, write_package_zip
from belarus_releases.export.package_zip import PackageZip
from belarus_releases.export.parquet import arrow_schema
from belarus_releases.layout import Layout
from belarus_releases.tables import TABLES, Table

# The Arrow type each SQLite storage type of a STRICT table may be read as, by the declared logical type.
SQLITE_DECLARED = {"string": "TEXT", "integer": "INTEGER", "date": "TEXT", "array": "TEXT"}


def _database_rows(database: Path, table: Table) -> tuple[list[tuple[str, str]], list[dict[str, object]]]:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as connection:
        declared = [(row[1], row[2]) for row in connection.execute(f"pragma table_info([{table.name}])")]
        cursor = connection.execute(f"select * from [{table.name}] order by rowid")
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return declared, rows


def _as_stored(table: Table, row: dict[str, object]) -> dict[str, object]:
    """A Parquet row written back the way SQLite stores it: dates as ISO text, lists as JSON text."""
    stored: dict[str, object] = {}
    for column in table.columns:
        value = row[column.name]
        if isinstance(value, dt.date):
            value = value.isoformat()
        elif isinstance(value, list):
            value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        stored[column.name] = value
    return stored


@pytest.mark.parametrize("table", TABLES, ids=lambda table: table.name)
def test_parquet_has_the_rows_and_column_types_of_the_database(site: Layout, table: Table) -> None:
    parquet = pq.read_table(site.output(f"{table.name}.parquet"))
    declared, rows = _database_rows(site.database, table)
    assert parquet.num_rows == len(rows)
    assert parquet.schema.names == [name for name, _ in declared] == table.column_names
    assert [SQLITE_DECLARED[table.column(name).type] for name, _ in declared] == [type_ for _, type_ in declared]
    assert parquet.schema.equals(arrow_schema(table), check_metadata=False)
    assert [_as_stored(table, row) for row in parquet.to_pylist()] == rows


def test_parquet_types_do_not_depend_on_the_data(site: Layout) -> None:
    """A column that is empty in every row keeps its declared type: integer stays int64, a list stays a list."""
    empty = pq.read_table(site.output("released_people.parquet")).schema  # few rows; the schema never looks at them
    assert empty.equals(arrow_schema(TABLES[[t.name for t in TABLES].index("released_people")]), check_metadata=False)
    releases = pq.read_table(site.output("releases.parquet"))
    assert releases.schema.field("low").type == pa.int64()  # null in most rows, still an integer column
    assert releases.schema.field("nationalities").type == pa.list_(pa.string())
    assert pq.read_table(site.output("events.parquet")).schema.field("sort_date").type == pa.date32()


def test_the_package_zip_validates_once_unzipped(site: Layout, tmp_path: Path) -> None:
    with zipfile.ZipFile(site.output(PACKAGE_ZIP)) as archive:
        assert sorted(archive.namelist()) == sorted(["datapackage.json", *table_files()])
        archive.extractall(tmp_path)
    descriptor = json.loads((tmp_path / "datapackage.json").read_text(encoding="utf-8"))
    assert {resource["path"] for resource in descriptor["resources"]} == {f"{table.name}.csv" for table in TABLES}
    report = Package(str(tmp_path / "datapackage.json")).validate()
    assert report.valid, report.flatten(["type", "message"])
    assert descriptor["version"]


def test_the_zip_has_the_bytes_zipfile_writes(tmp_path: Path) -> None:
    """export/package_zip.py writes each entry itself (compressed in threads, or copied from the previous zip):
    the bytes are those of zipfile writing the same files, one after the other, as the zip was first written."""
    folder = tmp_path / "release"
    folder.mkdir()
    for number, name in enumerate(ZIPPED):
        (folder / name).write_bytes(f"{name}, line {number}\n".encode() * (number * 300) + bytes(range(256)) * number)
    reference = tmp_path / "reference.zip"
    with zipfile.ZipFile(reference, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name in ZIPPED:
            entry = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            entry.file_size = (folder / name).stat().st_size
            entry._compresslevel = 3  # type: ignore[attr-defined]
            with archive.open(entry, "w") as copy:
                copy.write((folder / name).read_bytes())
    assert write_package_zip(folder, folder / PACKAGE_ZIP).read_bytes() == reference.read_bytes()
    later, full = tmp_path / "later", tmp_path / "full"  # the next release: one file changed, the others linked
    for target in (later, full):
        target.mkdir()
        for name in ZIPPED:
            os.link(folder / name, target / name) if name != "events.csv" else (target / name).write_bytes(b"id\nx\n")
    assert (write_package_zip(later, later / PACKAGE_ZIP, folder).read_bytes()  # the linked files' entries copied
            == write_package_zip(full, full / PACKAGE_ZIP).read_bytes())


def test_a_zip_member_started_twice_is_written_once_and_let_go_once_written(tmp_path: Path) -> None:
    """A full build starts each table's members as soon as its files are written, then every member again (only the
    others start); written, the compressed data is let go (50 MB at 100,000 records, held through the build's end)."""
    for number, name in enumerate(ZIPPED):
        (tmp_path / name).write_bytes(f"{name} {number}\n".encode() * 50)
    package = PackageZip(tmp_path)
    try:
        package.add(["events.csv", "events.json"])
        started = package.members["events.csv"]
        package.add(ZIPPED)
        assert package.members["events.csv"] is started
        target = package.write(tmp_path / PACKAGE_ZIP, ZIPPED)
        assert package.members == {}
    finally:
        package.close()
    with zipfile.ZipFile(target) as archive:
        assert archive.namelist() == ZIPPED
        assert archive.read("events.csv") == (tmp_path / "events.csv").read_bytes()
