"""Export, datapackage.json: a Frictionless Data Package (v1 profiles) describing build/<table>.csv.

It is derived from metadata.yml (title, licence, source, descriptions) and tables.py (fields, types, keys)
only, never from the data: no hashes, byte counts or row counts. So the committed file changes exactly
when metadata.yml or a table definition changes, and a test compares it with what the build would write.
Data Package v2 is not used because frictionless-py does not implement it (frictionless-py#1737).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from belarus_releases.check.metadata import database_name, table_metadata
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES, Column, Table

GENERATED_BY = "belarus-releases build from metadata.yml and tables.py — do not edit by hand; run `belarus-releases build`"
MISSING_VALUES = [""]


def datapackage_descriptor(layout: Layout, metadata: dict[str, Any]) -> dict[str, Any]:
    """The package descriptor for the tables, with facts from `metadata` (as checked by check/metadata.py)."""
    database = database_name(layout)
    descriptor: dict[str, Any] = {
        "profile": "tabular-data-package",
        "name": database,
        "title": metadata["title"],
        "description": metadata["description"],
        "version": metadata["version"],
        "x-generated-by": GENERATED_BY,
        "licenses": [{"name": license_id(metadata["license"]), "title": metadata["license"], "path": metadata["license_url"]}],
        "sources": [_source(metadata)],
    }
    for key in ("homepage", "keywords", "contributors"):
        if key in metadata:
            descriptor[key] = metadata[key]
    descriptor["resources"] = [_resource(layout, table, table_metadata(metadata, database, table.name)) for table in TABLES]
    return descriptor


def license_id(title: str) -> str:
    """The licence's SPDX-style id from its short title: "CC BY 4.0" -> "CC-BY-4.0"."""
    return "-".join(title.split())


def _source(metadata: dict[str, Any]) -> dict[str, str]:
    source = {"title": metadata["source"]}
    if str(metadata.get("source_url", "")).startswith(("https://", "http://")):
        source["path"] = metadata["source_url"]
    return source


def _resource(layout: Layout, table: Table, described: dict[str, Any]) -> dict[str, Any]:
    columns = described["columns"]
    schema: dict[str, Any] = {
        "fields": [_field(column, columns[column.name]) for column in table.columns],
        "missingValues": MISSING_VALUES,
        "primaryKey": list(table.primary_key),
    }
    if table.foreign_keys:
        schema["foreignKeys"] = [{"fields": fk.column, "reference": {"resource": fk.other_table, "fields": fk.other_column}}
                                 for fk in table.foreign_keys]
    return {
        "profile": "tabular-data-resource",
        "name": table.name,
        "path": layout.relative(layout.build / f"{table.name}.csv"),
        "title": described.get("title", table.name),
        "description": described["description"],
        "format": "csv",
        "mediatype": "text/csv",
        "encoding": "utf-8",
        "schema": schema,
    }


def _field(column: Column, description: str) -> dict[str, Any]:
    field: dict[str, Any] = {"name": column.name, "type": column.type, "description": description}
    if column.required:
        field["constraints"] = {"required": True}
    return field


def render_datapackage(descriptor: dict[str, Any]) -> str:
    """The descriptor as the text of datapackage.json: two-space indent, UTF-8 characters, a final newline."""
    return json.dumps(descriptor, ensure_ascii=False, indent=2) + "\n"


def write_datapackage(descriptor: dict[str, Any], path: Path) -> Path:
    path.write_text(render_datapackage(descriptor), encoding="utf-8", newline="\n")
    return path


def validate_package(descriptor_path: Path, basepath: Path) -> list[Problem]:
    """Frictionless validation of the written package (descriptor and every CSV): each error is a Problem."""
    from frictionless import Package  # imported here: frictionless takes about a second to import

    package = Package(str(descriptor_path), basepath=str(basepath))
    report = package.validate()
    problems = [Problem(descriptor_path.name, 0, 0, "package-invalid", f"{error.type}: {error.message}")
                for error in report.errors]
    for task in report.tasks:
        for error in task.errors:
            row, col = getattr(error, "row_number", None) or 0, getattr(error, "field_number", None) or 0
            where = task.place or task.name
            problems.append(Problem(where, row, col, "package-invalid", f"{error.type}: {error.message}"))
    return problems
