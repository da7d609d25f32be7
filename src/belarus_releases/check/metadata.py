"""metadata.yml: the one home of the title, licence, source, and every table and column description.

Datasette reads the file as it is (`datasette -m metadata.yml`). This module is the one place that reads it
for the toolkit: `validate`, `build` and `serve` all call `load_metadata`, which reads it with the same strict
loader as the records and checks that it describes exactly the tables and columns in tables.py, that every
facet, sort and label column it names exists (so Datasette never fails on a stale name), and that nothing in
it would be served unsafely: Datasette renders `*_html` values unescaped (`description_html` is `|safe` in its
templates) and turns `*_url` values into links, so only plain text and http(s) links are allowed.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from belarus_releases.check.files import input_file_problem
from belarus_releases.check.yaml_reader import Loaded, load_file
from belarus_releases.layout import Layout
from belarus_releases.problems import JsonPath, Problem, at
from belarus_releases.tables import BY_NAME, TABLES, Table

REQUIRED_TEXT = ("title", "description", "license", "license_url", "source", "version")
COLUMN_SETTINGS = ("sort", "sort_desc", "label_column")


def database_name(layout: Layout) -> str:
    """The database's name in Datasette and in metadata.yml: the file name without .db."""
    return layout.database.stem


def load_metadata(layout: Layout) -> tuple[dict[str, Any] | None, list[Problem]]:
    """metadata.yml as data, or None with the problems that make it unusable to build or serve, sorted by place."""
    relative = layout.relative(layout.metadata)
    unusable = input_file_problem(layout, layout.metadata)
    if unusable:
        return None, [unusable]
    loaded = load_file(layout.root, relative)
    problems = list(loaded.problems) or sorted(metadata_problems(loaded, database_name(layout)))
    return (None if problems else loaded.data), problems


def metadata_problems(loaded: Loaded, database: str) -> Iterator[Problem]:
    """Everything metadata.yml must say for the build and for Datasette, names that do not exist, unsafe entries."""
    data = loaded.data
    for path, message in unsafe_entries(data):
        # An *_html key is wrong whatever its value, so point at the key; a bad link, at the link.
        yield _problem(loaded, path, message, key=str(path[-1]).endswith("_html"))
    for key in REQUIRED_TEXT:
        if not isinstance(data.get(key), str) or not data[key].strip():
            yield _problem(loaded, (key,), f"metadata.yml needs a top-level '{key}' (text)")
    tables = _mapping(data, ("databases", database, "tables"))
    if tables is None:
        yield _problem(loaded, ("databases",), f"metadata.yml needs databases: {database}: tables: with one entry per table")
        return
    for name in sorted(set(tables) - set(BY_NAME)):
        yield _problem(loaded, ("databases", database, "tables", name),
                       f"table '{name}' is not built; the tables are: {', '.join(BY_NAME)}", key=True)
    for table in TABLES:
        yield from _table_problems(loaded, ("databases", database, "tables", table.name), table)
    yield from _query_problems(loaded, ("databases", database, "queries"))


def _table_problems(loaded: Loaded, path: JsonPath, table: Table) -> Iterator[Problem]:
    entry = _mapping(loaded.data, path)
    if entry is None:
        yield _problem(loaded, path, f"table '{table.name}' needs an entry with a description and columns")
        return
    if not _text(entry.get("description")):
        yield _problem(loaded, path, f"table '{table.name}' needs a description")
    described = entry.get("columns")
    columns: dict[str, Any] = described if isinstance(described, dict) else {}
    for name in table.column_names:
        if not _text(columns.get(name)):
            yield _problem(loaded, (*path, "columns"), f"column '{table.name}.{name}' needs a description")
    for name in sorted(set(columns) - set(table.column_names)):
        yield _problem(loaded, (*path, "columns", name), f"'{table.name}' has no column '{name}'", key=True)
    for setting in COLUMN_SETTINGS:
        if setting in entry and entry[setting] not in table.column_names:
            yield _problem(loaded, (*path, setting), f"{setting}: '{table.name}' has no column '{entry[setting]}'")
    for number, facet in enumerate(entry.get("facets", [])):
        column = facet if isinstance(facet, str) else next(iter(facet.values()), None) if isinstance(facet, dict) else None
        if column not in table.column_names:
            yield _problem(loaded, (*path, "facets", number), f"facet: '{table.name}' has no column '{column}'")


def _query_problems(loaded: Loaded, path: JsonPath) -> Iterator[Problem]:
    queries = _mapping(loaded.data, path) or {}
    for name, query in queries.items():
        if not isinstance(query, dict) or not _text(query.get("sql")) or not _text(query.get("title")):
            yield _problem(loaded, (*path, name), f"canned query '{name}' needs a title and sql")


def unsafe_entries(value: Any, path: JsonPath = ()) -> Iterator[tuple[JsonPath, str]]:
    """Keys Datasette would render as raw HTML (`*_html`) and `*_url` links that are not http(s), with why.

    Also what the plugin checks in the metadata of a plain `datasette -m metadata.yml`, which has no positions.
    """
    if isinstance(value, dict):
        for key, item in value.items():
            where, name = (*path, key), str(key)
            if name.endswith("_html"):
                yield where, (f"{_dotted(where)}: Datasette shows *_html values as raw HTML; "
                              f"write plain text under '{name.removesuffix('_html')}' instead")
            elif name.endswith("_url") and item is not None and not _is_web_link(item):
                yield where, f"{_dotted(where)}: a link must start with https:// or http://"
            yield from unsafe_entries(item, where)
    elif isinstance(value, list):
        for number, item in enumerate(value):
            yield from unsafe_entries(item, (*path, number))


def _dotted(path: JsonPath) -> str:
    """A path into the data as messages write it: `databases.belarus-releases.tables.events`."""
    return ".".join(str(part) for part in path)


def _is_web_link(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(("https://", "http://"))


def _mapping(data: Any, path: JsonPath) -> dict[str, Any] | None:
    for part in path:
        if not isinstance(data, dict):
            return None
        data = data.get(part)
    return data if isinstance(data, dict) else None


def _text(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _problem(loaded: Loaded, path: JsonPath, message: str, *, key: bool = False) -> Problem:
    return at(loaded.file, loaded.position(path, key=key), "metadata-invalid", message)


def table_metadata(metadata: dict[str, Any], database: str, table: str) -> dict[str, Any]:
    """The metadata.yml entry of one table (already checked to exist)."""
    return dict(metadata["databases"][database]["tables"][table])
