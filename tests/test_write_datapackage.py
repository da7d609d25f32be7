"""datapackage.json and metadata.yml: derived from metadata and table definitions only, valid for Frictionless.

The committed datapackage.json is written by `make datapackage`, never by the build, so only a change to
metadata.yml or tables.py (or to the code that derives it) can make it stale, never a changed record."""

from __future__ import annotations

import errno
import json
import os
from pathlib import Path
from typing import Any

import pytest

from belarus_releases.check.metadata import database_name, load_metadata
from belarus_releases.export.datapackage import (
    GENERATED_BY,
    datapackage_descriptor,
    license_id,
    render_datapackage,
    validate_package,
    write_datapackage,
)
from belarus_releases.export.files import write_table_files
from belarus_releases.export.flatten import flatten_data
from belarus_releases.export.maintain import refresh_datapackage
from belarus_releases.layout import Layout
from belarus_releases.tables import BY_NAME, TABLES
from build_support import fixture_data


def real_metadata(layout: Layout) -> dict[str, Any]:
    metadata, problems = load_metadata(layout)
    assert metadata is not None, [p.to_text() for p in problems]
    return metadata


def test_committed_datapackage_is_what_make_datapackage_writes(real: Layout) -> None:
    """Fails when metadata.yml or tables.py changed and datapackage.json was not regenerated: run `make datapackage`."""
    expected = render_datapackage(datapackage_descriptor(real, real_metadata(real), folder=real.root))
    assert real.datapackage.read_text(encoding="utf-8") == expected, "datapackage.json is stale: run `make datapackage`"


def test_make_datapackage_writes_the_file_in_one_step(repo: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full disk while writing leaves the old file whole and no temporary file beside it."""
    committed = repo.datapackage.read_bytes()
    repo.datapackage.write_text("stale\n", encoding="utf-8")
    assert refresh_datapackage(repo) == repo.datapackage
    assert repo.datapackage.read_bytes() == committed

    def full_disk(descriptor: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full_disk)
    with pytest.raises(OSError):
        refresh_datapackage(repo)
    assert repo.datapackage.read_bytes() == committed
    assert sorted(path.name for path in repo.root.iterdir() if path.name.startswith(".")) == []


def test_metadata_describes_every_table_and_column(real: Layout) -> None:
    metadata = real_metadata(real)
    described = metadata["databases"][database_name(real)]["tables"]
    assert set(described) == set(BY_NAME)
    for table in TABLES:
        assert described[table.name]["description"].strip(), table.name
        columns = described[table.name]["columns"]
        assert list(columns) == table.column_names, f"{table.name}: describe the columns in table order"
        for name in table.column_names:
            assert isinstance(columns[name], str) and len(columns[name].strip()) > 10, f"{table.name}.{name}"


def test_metadata_top_level_facts(real: Layout) -> None:
    metadata = real_metadata(real)
    assert metadata["title"] == "Belarus political-prisoner releases: US–Belarus diplomacy"
    assert metadata["license"] == "CC BY 4.0"
    assert metadata["license_url"] == "https://creativecommons.org/licenses/by/4.0/"
    assert "sources/" in metadata["source"]
    assert "description_html" not in json.dumps(metadata)  # Datasette renders it unescaped


def test_every_field_and_resource_is_described_and_typed(real: Layout) -> None:
    descriptor = datapackage_descriptor(real, real_metadata(real), folder=real.root)
    inside = datapackage_descriptor(real, real_metadata(real), folder=real.current)
    assert [resource["name"] for resource in descriptor["resources"]] == [table.name for table in TABLES]
    assert [resource["path"] for resource in inside["resources"]] == [f"{table.name}.csv" for table in TABLES]
    for resource, table in zip(descriptor["resources"], TABLES, strict=True):
        assert resource["path"] == f"build/current/{table.name}.csv"
        assert resource["description"].strip()
        schema = resource["schema"]
        assert [field["name"] for field in schema["fields"]] == table.column_names
        assert [field["type"] for field in schema["fields"]] == [column.type for column in table.columns]
        assert all(field["description"].strip() for field in schema["fields"])
        assert schema["primaryKey"] == list(table.primary_key)
        assert schema["missingValues"] == [""]
        keys = [(fk["fields"], fk["reference"]["resource"], fk["reference"]["fields"]) for fk in schema.get("foreignKeys", [])]
        assert keys == [(fk.column, fk.other_table, fk.other_column) for fk in table.foreign_keys]


def test_package_level_properties(real: Layout) -> None:
    descriptor = datapackage_descriptor(real, real_metadata(real), folder=real.root)
    assert descriptor["profile"] == "tabular-data-package"
    assert descriptor["name"] == "belarus-releases"
    assert descriptor["x-generated-by"] == GENERATED_BY
    assert descriptor["licenses"] == [{"name": "CC-BY-4.0", "title": "CC BY 4.0", "path": "https://creativecommons.org/licenses/by/4.0/"}]
    assert descriptor["sources"][0]["title"] == real_metadata(real)["source"]
    assert descriptor["version"] == real_metadata(real)["version"]


def test_nothing_in_the_descriptor_depends_on_the_data(real: Layout) -> None:
    text = render_datapackage(datapackage_descriptor(real, real_metadata(real), folder=real.root))
    for word in ('"hash"', '"bytes"', '"rows"', '"count_rows"', "md5"):
        assert word not in text
    assert all(set(resource) & {"hash", "bytes"} == set() for resource in json.loads(text)["resources"])


def test_license_id() -> None:
    assert license_id("CC BY 4.0") == "CC-BY-4.0"
    assert license_id("ODbL-1.0") == "ODbL-1.0"


def write_package(folder: Path, layout: Layout, tables: dict[str, list[dict[str, Any]]]) -> Path:
    """Write a release's files into `folder`, as the build stages them."""
    for table in TABLES:
        write_table_files(table, tables[table.name], folder)
    descriptor = datapackage_descriptor(layout, real_metadata(layout), folder=layout.current)
    return write_datapackage(descriptor, folder / "datapackage.json")


def test_frictionless_validates_the_written_package(real: Layout, tmp_path: Path) -> None:
    descriptor = write_package(tmp_path, real, flatten_data(*fixture_data()))
    assert validate_package(descriptor, tmp_path, shown_in="build/current/") == []


@pytest.mark.parametrize(("table", "change", "error"), [
    ("quotes", lambda rows: rows[0].update(source_file="missing.txt"), "foreign-key"),
    ("events", lambda rows: rows.append(dict(rows[0])), "primary-key"),
    ("events", lambda rows: rows[0].update(year="twenty"), "type-error"),
    ("events", lambda rows: rows[0].update(title=None), "constraint-error"),
])
def test_frictionless_errors_become_problems(real: Layout, tmp_path: Path, table: str, change: Any, error: str) -> None:
    tables = flatten_data(*fixture_data())
    change(tables[table])
    descriptor = write_package(tmp_path, real, tables)
    problems = validate_package(descriptor, tmp_path, shown_in="build/current/")
    assert problems, "frictionless should have found the broken row"
    assert {p.type for p in problems} == {"package-invalid"}
    assert any(p.file == f"build/current/{table}.csv" and p.line >= 2 and error in p.message for p in problems), problems


def test_a_stale_datapackage_is_noticed(repo: Layout) -> None:
    """Changing a description in metadata.yml changes the descriptor, so the committed file no longer matches."""
    text = repo.metadata.read_text(encoding="utf-8")
    repo.metadata.write_text(text.replace("Canonical English name (", "The English name (", 1), encoding="utf-8")
    descriptor = datapackage_descriptor(repo, real_metadata(repo), folder=repo.root)
    assert render_datapackage(descriptor) != repo.datapackage.read_text(encoding="utf-8")


@pytest.mark.parametrize(("old", "new", "message"), [
    ("          name_uk: Ukrainian name as Ukrainian-language sources write it.\n", "",
     "column 'people.name_uk' needs a description"),
    ("          name_uk: Ukrainian", "          name_xx: Nothing\n          name_uk: Ukrainian",
     "'people' has no column 'name_xx'"),
    ("          - date_precision\n", "          - precision\n", "facet: 'events' has no column 'precision'"),
    ("        sort_desc: sort_date\n", "        sort_desc: when\n", "sort_desc: 'events' has no column 'when'"),
    ('version: "0.1.0"\n', "", "needs a top-level 'version'"),
])
def test_metadata_problems(repo: Layout, old: str, new: str, message: str) -> None:
    text = repo.metadata.read_text(encoding="utf-8")
    assert old in text
    repo.metadata.write_text(text.replace(old, new, 1), encoding="utf-8")
    metadata, problems = load_metadata(repo)
    assert metadata is None
    assert [p.type for p in problems] == ["metadata-invalid"]
    assert message in problems[0].message and problems[0].file == "metadata.yml" and problems[0].line > 0


def test_missing_metadata(repo: Layout) -> None:
    repo.metadata.unlink()
    metadata, problems = load_metadata(repo)
    assert metadata is None and [p.type for p in problems] == ["missing-file"]


def test_metadata_goes_through_the_strict_loader(repo: Layout) -> None:
    text = repo.metadata.read_text(encoding="utf-8")
    repo.metadata.write_text(text.replace('version: "0.1.0"', "version: 0.1.0\nversion: 0.2.0", 1), encoding="utf-8")
    metadata, problems = load_metadata(repo)
    assert metadata is None and "duplicate-key" in {p.type for p in problems}

