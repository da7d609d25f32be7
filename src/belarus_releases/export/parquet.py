"""Export, Parquet: <table>.parquet in each release, with the column types that tables.py declares.

The Arrow schema comes from the table's definition, never from the rows, so a column keeps its type whatever
the data holds: an integer column with no value yet is still int64 (nullable, so pandas reads it as Int64 with
`dtype_backend="pyarrow"` or `"numpy_nullable"`, not float), a date column is date32, a list is list<string>,
and a column that is empty in every row is still string, not null. Required columns are not nullable.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from belarus_releases.tables import Column, Table

ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "date": pa.date32(),
    "array": pa.list_(pa.string()),
}


def arrow_schema(table: Table, descriptions: dict[str, str] | None = None) -> pa.Schema:
    """The table's Arrow schema; each field carries its description (from metadata.yml) when one is given."""
    described = descriptions or {}
    return pa.schema([
        pa.field(column.name, ARROW_TYPES[column.type], nullable=not column.required,
                 metadata={"description": described[column.name]} if column.name in described else None)
        for column in table.columns
    ])


def parquet_value(column: Column, value: Any) -> Any:
    """A value as Arrow takes it for the column: a date column's ISO text as a date."""
    if value is None or column.type != "date" or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def write_arrow(data: pa.Table, path: Path) -> None:
    """The one way a Parquet file is written (zstd-compressed, no pandas index), from whatever made the table."""
    pq.write_table(data, path, compression="zstd")
