"""Export, a fast verdict on a written Data Package: True only when Frictionless would find no error in it.

Frictionless is the reference (export/datapackage.py's `validate_package` words every error with it), but it
parses every cell of every table in Python, and reads each referenced table again for every foreign key: 16 %
of a 10,000-record build. This module reaches the same verdict for the packages the build writes, much faster,
and errs on one side only: when it says valid, Frictionless says valid; anything it is not sure of (an error, a
field option or type it does not model, any exception) makes it say "not shown valid", and the build then runs
Frictionless itself for the verdict and the words. Tests compare both on broken packages.

What is taken from Frictionless itself: the descriptor's and each resource's metadata validation, the CSV
dialect it detects, the header it reads and its errors, and the cells its own CSV parser gives. What is done
here, on those cells, stricter than Frictionless: each cell's type (only canonical text: "7" but not " 7" or
"+7", "2025-01-02" but not "2025-1-2", so that equal text means equal values), required cells, rows of the
wrong length, unique primary keys, and every foreign key, against the referenced table's keys.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from itertools import islice
from pathlib import Path
from typing import Any

from belarus_releases.memory import no_garbage_collection

CHUNK = 8192  # rows checked at once: the cells of one chunk are held, never those of a whole table
CANONICAL = {
    "integer": re.compile(r"0|-?[1-9][0-9]*"),
    "date": re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}"),
}
FIELD_KEYS = {"name", "type", "description", "title", "constraints", "format"}
KEY_TYPES = {"string", "integer", "date"}  # types whose canonical text is their value: equal text, equal keys
DIALECT = ("delimiter", "doublequote", "escapechar", "lineterminator", "quotechar", "quoting", "skipinitialspace")
"""The csv module's parameters that Frictionless sets (csv.excel's for the rest)."""


Key = tuple[str | None, ...]
Target = tuple[str, tuple[str, ...]]  # a table and the fields a foreign key refers to


class NotShown(Exception):
    """The package is not shown valid here: ask Frictionless."""


@dataclass(frozen=True)
class Columns:
    """What checking one table's rows needs of its schema: field types in order, required fields, the primary key
    and the foreign keys (each its fields and the (table, fields) it refers to)."""

    name: str
    types: dict[str, str]
    required: frozenset[str]
    primary: tuple[str, ...]
    references: tuple[tuple[tuple[str, ...], Target], ...]


Dialects = dict[str, dict[str, Any]]
"""For each table, the CSV dialect (csv module parameters) and encoding its cells were read with."""


def shown_valid(descriptor: Path, basepath: Path) -> bool:
    """Whether the package is shown valid (never True for a package that Frictionless finds an error in)."""
    return fast_verdict(descriptor, basepath) is not None


def fast_verdict(descriptor: Path, basepath: Path) -> Dialects | None:
    """The dialect each table was read with when the package is shown valid; None when it is not."""
    try:
        return checked_package(descriptor, basepath)
    except Exception:  # NotShown, FrictionlessException, an unreadable file: Frictionless will say what it is
        return None


def checked_package(descriptor: Path, basepath: Path, tables: Iterable[str] | None = None) -> Dialects:
    """The dialects when the package is shown valid, each table checked as `tables` names it (by default every
    table, in the descriptor's order); raises NotShown (or any exception) when it is not. The collector is off
    meanwhile: the keys of every table are held until the verdict, and dropped before the block ends (memory.py)."""
    with no_garbage_collection():
        return _verdict(PackageCheck(descriptor, basepath), tables)


def _verdict(check: PackageCheck, tables: Iterable[str] | None) -> Dialects:
    for name in check.types if tables is None else tables:
        check.table(name)
    return check.verdict()


class PackageCheck:
    """The verdict reached a table at a time, so that each table can be checked as soon as it is written
    (export/package_verifier.py): the descriptor first, then `table` for each, then `verdict`. Each step raises
    NotShown (or any exception) when the package is not shown valid."""

    def __init__(self, descriptor: Path, basepath: Path) -> None:
        from frictionless import Package  # imported here: frictionless takes about a second to import

        self.package = Package(str(descriptor), basepath=str(basepath))
        self.package.to_descriptor(validate=True)  # what Package.validate checks first; raises when invalid
        self.types = {resource.name: {field.name: field_type(field.to_descriptor()) for field in resource.schema.fields}
                      for resource in self.package.resources}
        if len(self.types) != len(self.package.resources):
            raise NotShown("two resources with one name")
        self.targets = _reference_targets(self.package, self.types)
        self.keys: dict[Target, set[Key]] = {}  # the key values of each (table, fields) that a foreign key refers to
        self.wanted: list[tuple[Target, set[Key]]] = []  # the values each foreign key refers to
        self.dialects: Dialects = {}

    def table(self, name: str) -> None:
        """Check the rows of the table `name`, which is written by now."""
        if name not in self.types or name in self.dialects:
            raise NotShown(f"no table {name} to check, or checked twice")
        resource = self.package.get_resource(name)
        columns, self.dialects[name], path = _opened(resource, self.types[name])
        self.wanted.extend(check_rows(columns, path, self.dialects[name], self.targets.get(name, set()), self.keys))

    def verdict(self) -> Dialects:
        """The dialect each table was read with, once every table is checked and every foreign key resolves."""
        if set(self.dialects) != set(self.types):
            raise NotShown("a table was not checked")
        references_resolve(self.wanted, self.keys)
        return self.dialects


def references_resolve(wanted: list[tuple[Target, set[Key]]], keys: dict[Target, set[Key]]) -> None:
    for target, values in wanted:
        if target not in keys or not values <= keys[target]:
            raise NotShown(f"a foreign key of {target[0]} does not resolve")


def _reference_targets(package: Any, types: dict[str, dict[str, str]]) -> dict[str, set[tuple[str, ...]]]:
    """For each resource, the field tuples that foreign keys of the package refer to. Each field of a foreign key
    must have the type of the field it refers to, one whose text is its value (so that equal text is equal keys)."""
    targets: dict[str, set[tuple[str, ...]]] = {}
    for resource in package.resources:
        for fields, (name, other) in references_of(resource.name, resource.schema.foreign_keys):
            if name not in types or len(fields) != len(other) or any(
                    types[resource.name].get(field) not in KEY_TYPES or types[resource.name][field] != types[name].get(key)
                    for field, key in zip(fields, other, strict=True)):
                raise NotShown(f"a foreign key of {resource.name} not modelled here")
            targets.setdefault(name, set()).add(other)
    return targets


def fields_of(fields: str | list[str]) -> tuple[str, ...]:
    return (fields,) if isinstance(fields, str) else tuple(fields)


def references_of(name: str, foreign_keys: Iterable[dict[str, Any]]) -> tuple[tuple[tuple[str, ...], Target], ...]:
    """A table's foreign keys as (its fields, (the table referred to, its fields)); a key with no resource refers to
    the table itself."""
    return tuple((fields_of(fk["fields"]), (fk["reference"]["resource"] or name, fields_of(fk["reference"]["fields"])))
                 for fk in foreign_keys)


def _opened(resource: Any, types: dict[str, str]) -> tuple[Columns, dict[str, Any], str]:
    """What checking a table's rows needs, as Frictionless reads the resource: its columns, the CSV dialect and
    encoding it detects, and the file."""
    schema = resource.schema
    if resource.hash or resource.bytes or resource.fields or resource.rows or list(schema.missing_values) != [""]:
        raise NotShown("a declared statistic or missing value that is not checked here")
    resource.to_descriptor(validate=True)  # what Resource.validate checks first
    references = references_of(resource.name, schema.foreign_keys)
    schema.foreign_keys = []  # opened with them, it would read every referenced table for its lookup: done here instead
    required = frozenset(field.name for field in schema.fields if field.constraints.get("required"))
    columns = Columns(resource.name, types, required, tuple(schema.primary_key), references)
    with resource:
        if not resource.header.valid or list(resource.labels) != list(types):
            raise NotShown("the header is not exactly the field names")
        dialect, encoding, path = _reading(resource)
    return columns, {**{name: getattr(dialect, name) for name in DIALECT}, "encoding": encoding}, path


def check_rows(columns: Columns, path: str, dialect: dict[str, Any], targets: set[tuple[str, ...]],
               keys: dict[Target, set[Key]], *, cells: bool = True) -> list[tuple[Target, set[Key]]]:
    """Check one table's rows (each cell's type, required cells, unique primary keys; with `cells` false, only
    each row's length); record in `keys` its values of the `targets` others refer to; return its own references."""
    names = list(columns.types)
    primary = _indexes(names, list(columns.primary)) if cells else []
    if any(columns.types[names[index]] not in KEY_TYPES for index in primary):
        raise NotShown("a primary key on a type whose text is not its value")
    collected: dict[tuple[str, ...], set[Key]] = {target: set() for target in targets}
    found: list[set[Key]] = [set() for _ in columns.references]
    parameters = {name: value for name, value in dialect.items() if name in DIALECT}
    with open(path, encoding=dialect["encoding"], newline="") as text:  # as Frictionless's loader opens a CSV file
        rows = csv.reader(text, **parameters)
        if next(rows, None) != names:
            raise NotShown("the header is not exactly the field names")
        seen: set[tuple[str, ...]] = set()
        for chunk in _chunks(rows):
            cells_by_column = columns_of(chunk, len(names))
            if cells:
                check_cells(cells_by_column, columns.types, set(columns.required))
            if primary:
                add_unique(seen, [cells_by_column[index] for index in primary], len(chunk))
            for target, values in collected.items():
                values.update(_key_values([cells_by_column[index] for index in _indexes(names, list(target))]))
            for number, (fields, _) in enumerate(columns.references):
                found[number].update(_key_values([cells_by_column[index] for index in _indexes(names, list(fields))]))
    for target, values in collected.items():
        keys[(columns.name, target)] = values
    return [(target, found[number]) for number, (_, target) in enumerate(columns.references)]


def _reading(resource: Any) -> tuple[Any, str, str]:
    """How Frictionless reads the opened resource's cells: the CSV dialect it detected, the encoding, the file.
    Reading them with the csv module directly gives the same cells without Frictionless's per-row wrappers."""
    dialect = resource.dialect
    if (resource.format != "csv" or resource.scheme != "file" or resource.compression or resource.innerpath
            or not dialect.header or list(dialect.header_rows) != [1] or dialect.comment_char or dialect.comment_rows
            or dialect.skip_blank_rows):
        raise NotShown("a resource read in a way not modelled here")
    return dialect.get_control("csv").to_python(), str(resource.encoding), str(resource.normpath)


def field_type(descriptor: dict[str, Any]) -> str:
    """The field's type when it is one modelled here with no option that changes how cells are read."""
    constraints = descriptor.get("constraints", {})
    if set(descriptor) - FIELD_KEYS or set(constraints) - {"required"} or descriptor.get("format", "default") != "default":
        raise NotShown(f"field {descriptor.get('name')} has an option not modelled here")
    if descriptor.get("type") not in {"string", "integer", "date", "array"}:
        raise NotShown(f"field {descriptor.get('name')} has a type not modelled here")
    return str(descriptor["type"])


def _indexes(names: list[str], fields: list[str]) -> list[int]:
    return [names.index(field) for field in fields]


def _chunks(rows: Iterator[list[Any]]) -> Iterator[list[list[Any]]]:
    while chunk := list(islice(rows, CHUNK)):
        yield chunk


def columns_of(chunk: list[list[Any]], width: int) -> list[tuple[Any, ...]]:
    """The chunk's cells by column; every row must have a cell for each field, no more."""
    if {len(row) for row in chunk} != {width}:
        raise NotShown("a row with extra or missing cells")
    return list(zip(*chunk, strict=True))


def check_cells(columns: list[tuple[Any, ...]], types: dict[str, str], required: set[str]) -> None:
    """Every cell is missing ("") or its type's canonical text, and no required cell is missing; `columns` in the
    order of `types`."""
    if not required and any(all(cell == "" for cell in row) for row in zip(*columns, strict=True)):
        raise NotShown("a blank row")
    for (name, type_), cells in zip(types.items(), columns, strict=True):
        if name in required and "" in cells:
            raise NotShown(f"a required cell of {name} is empty")
        if type_ != "string":  # any text is a string; the others are checked once per distinct value
            values = set(cells)  # text, as the csv module gives every cell
            values.discard("")
            _check_values(type_, values)


def _check_values(type_: str, values: set[str]) -> None:
    if type_ in CANONICAL:
        pattern = CANONICAL[type_]
        if not all(pattern.fullmatch(value) for value in values):
            raise NotShown(f"a {type_} cell that is not canonical")
    try:
        if type_ == "date":
            for value in values:
                # on canonical text, what Frictionless's strptime(value, "%Y-%m-%d") accepts (not 2025-02-30, not
                # year 0), fifteen times faster
                date.fromisoformat(value)
        elif type_ == "array" and not all(isinstance(json.loads(value), list) for value in values):
            raise NotShown("an array cell that is not a JSON array")
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        raise NotShown(f"a {type_} cell that is not one: {error}") from None


def add_unique(seen: set[tuple[str, ...]], columns: list[tuple[str, ...]], count: int) -> None:
    before = len(seen)
    keys = set(zip(*columns, strict=True))
    seen.update(keys)
    if len(seen) != before + count or tuple("" for _ in columns) in keys:
        raise NotShown("a primary key that is repeated or empty")


def _key_values(columns: list[tuple[str, ...]]) -> set[tuple[str | None, ...]]:
    """Key values as Frictionless compares them: a missing cell is None; a key of missing cells is left out."""
    values = set(zip(*columns, strict=True))
    if any("" in column for column in columns):
        values = {tuple(cell or None for cell in value) for value in values}
        values.discard(tuple(None for _ in columns))
    return values
