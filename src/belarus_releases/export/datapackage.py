"""Export, datapackage.json: a Frictionless Data Package (v1 profiles) describing the published CSV files.

It is derived from metadata.yml (title, licence, source, descriptions) and tables.py (fields, types, keys)
only, never from the data: no hashes, byte counts or row counts. The same descriptor is written twice, with
resource paths relative to where it is written:
- by every build into its release folder (paths "events.csv"), so that each release is a self-contained package;
- by `make datapackage` into the repository root (paths "build/current/events.csv"), committed. The build
  never writes it: it changes exactly when metadata.yml or a table definition changes, and a test says so.
Data Package v2 is not used because frictionless-py does not implement it (frictionless-py#1737).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from belarus_releases.check.metadata import database_name, table_metadata
from belarus_releases.export.package_check import Dialects, Key, Target, fast_verdict
from belarus_releases.export.package_recheck import shown_valid_again
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES, Column, Table

GENERATED_BY = "belarus-releases from metadata.yml and tables.py — do not edit by hand; run `make datapackage`"
MISSING_VALUES = [""]


def datapackage_descriptor(layout: Layout, metadata: dict[str, Any], *, folder: Path) -> dict[str, Any]:
    """The package descriptor for the tables, with facts from `metadata` (as checked by check/metadata.py), as
    written in `folder`: layout.current for a release's own copy, layout.root for the committed one."""
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
    descriptor["resources"] = [_resource(_relative(layout.output(f"{table.name}.csv"), folder), table,
                                         table_metadata(metadata, database, table.name)) for table in TABLES]
    return descriptor


def license_id(title: str) -> str:
    """The licence's SPDX-style id from its short title: "CC BY 4.0" -> "CC-BY-4.0"."""
    return "-".join(title.split())


def _source(metadata: dict[str, Any]) -> dict[str, str]:
    source = {"title": metadata["source"]}
    if str(metadata.get("source_url", "")).startswith(("https://", "http://")):
        source["path"] = metadata["source_url"]
    return source


def _relative(path: Path, folder: Path) -> str:
    return path.relative_to(folder).as_posix()


def _resource(path: str, table: Table, described: dict[str, Any]) -> dict[str, Any]:
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
        "path": path,
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


def validate_package(descriptor_path: Path, basepath: Path, *, shown_in: str = "") -> list[Problem]:
    """Frictionless validation of the written package (descriptor and every CSV): each error is a Problem, on a
    file named as under `shown_in` (where the package will be published: "build/current/")."""
    return verified_package(descriptor_path, basepath, shown_in=shown_in)[0]


def verified_package(descriptor_path: Path, basepath: Path, *, shown_in: str = "", previous: Path | None = None,
                     dialects: Dialects | None = None, known: Mapping[Target, set[Key]] | None = None,
                     fast: Callable[[Path, Path], Dialects | None] | None = None) -> tuple[list[Problem], Dialects | None]:
    """The problems of the written package, and the CSV dialect of each table when it was shown valid fast.

    A package that export/package_check.py shows valid has no error for Frictionless to find (tests compare
    both), so Frictionless itself runs only for the others: for the verdict and the words of every error. With
    `previous`, a release shown valid whose tables were read with `dialects`, a package that differs from it only in
    some tables' rows is shown valid by checking what differs (export/package_recheck.py; `known`: key values of the
    previous tables, known without reading them). `fast`: how the fast
    verdict is reached, fast_verdict by default (export/package_verifier.py gives the one it reached beside the
    build)."""
    if previous is not None and dialects:
        again = shown_valid_again(descriptor_path, basepath, previous, dialects, known)
        if again is not None:
            return [], again
    found = (fast or fast_verdict)(descriptor_path, basepath)
    if found is not None:
        return [], found
    return frictionless_problems(descriptor_path, basepath, shown_in=shown_in), None


def frictionless_problems(descriptor_path: Path, basepath: Path, *, shown_in: str = "") -> list[Problem]:
    """Every error Frictionless finds in the package: the reference, run in full."""
    from frictionless import Package  # imported here: frictionless takes about a second to import

    package = Package(str(descriptor_path), basepath=str(basepath))
    report = package.validate()
    problems = [Problem(shown_in + descriptor_path.name, 0, 0, "package-invalid", f"{error.type}: {error.message}")
                for error in report.errors]
    for task in report.tasks:
        for error in task.errors:
            row, col = getattr(error, "row_number", None) or 0, getattr(error, "field_number", None) or 0
            where = shown_in + (task.place or task.name)
            problems.append(Problem(where, row, col, "package-invalid", f"{error.type}: {error.message}"))
    return problems
