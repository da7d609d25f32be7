"""The JSON Schemas contributors' editors autocomplete from: valid Draft 2020-12, closed, every field described."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from belarus_releases.layout import Layout

SCHEMAS = ("record", "people", "sources")


def objects(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema node that declares properties, with where it is."""
    if isinstance(node, dict):
        if "properties" in node and node.get("type") == "object":
            yield path, node
        for key, value in node.items():
            yield from objects(value, f"{path}/{key}")
    elif isinstance(node, list):
        for number, value in enumerate(node):
            yield from objects(value, f"{path}/{number}")


@pytest.mark.parametrize("name", SCHEMAS)
def test_schema_is_valid_draft_2020_12(real: Layout, name: str) -> None:
    schema = json.loads(real.schema(name).read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_object_is_closed_and_every_field_described(real: Layout, name: str) -> None:
    schema = json.loads(real.schema(name).read_text(encoding="utf-8"))
    found = list(objects(schema, name))
    assert found
    for path, node in found:
        assert node.get("additionalProperties") is False, f"{path} accepts unknown fields"
        assert node.get("description"), f"{path} has no description"
        for field, definition in node["properties"].items():
            described = definition.get("description") or definition.get("$ref")
            assert described, f"{path}/{field} has no description"


def test_every_record_points_editors_at_its_schema(real: Layout) -> None:
    for path in real.records.glob("*.yml"):
        assert path.read_text(encoding="utf-8").startswith("# yaml-language-server: $schema=../schema/record.schema.json\n"), path
