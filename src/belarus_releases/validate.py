"""Stage 2, validate one file: JSON Schema (with format checking) and the rules inside one record.

Every problem is collected and located; jsonschema's messages are rewritten to say what to do,
using the description the schema gives for the field.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError

from .load import JsonPath, Loaded
from .problems import Problem, at
from .record_rules import record_problems


@lru_cache(maxsize=8)
def schema_validator(schema_path: Path) -> jsonschema.Draft202012Validator:
    """A validator for one schema file, with `format` checked (jsonschema skips it by default)."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def validate_loaded(loaded: Loaded, validator: jsonschema.Draft202012Validator, *, is_record: bool) -> list[Problem]:
    """Schema problems, then (for records that pass the schema) the rules across their fields."""
    if loaded.data is None:
        return []
    problems = sorted(set(schema_problems(loaded, validator)))
    if is_record and not problems:
        problems.extend(record_problems(loaded))
    return problems


def schema_problems(loaded: Loaded, validator: jsonschema.Draft202012Validator) -> Iterable[Problem]:
    for error in validator.iter_errors(loaded.data):
        yield from _explain(loaded, error)


def _explain(loaded: Loaded, error: ValidationError) -> Iterable[Problem]:
    path: JsonPath = tuple(error.absolute_path)
    where = loaded.position(path)
    field = ".".join(str(p) for p in path) or "the file"
    hint = _description(error.schema)
    if error.validator == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(allowed)):
            close = difflib.get_close_matches(key, allowed, n=1)
            advice = f"did you mean '{close[0]}'?" if close else f"the fields allowed here are: {', '.join(allowed)}"
            yield at(loaded.file, loaded.position(path + (key,), key=True), "unknown-field",
                     f"unknown field '{key}' in {field}; {advice}")
    elif error.validator == "required":
        missing = str(error.message).split("'")[1]
        property_schema = error.schema.get("properties", {}).get(missing, {})
        yield at(loaded.file, where, "missing-field",
                 f"{field} needs the field '{missing}'" + _suffix(_description(property_schema)))
    elif error.validator == "anyOf":
        options = [" and ".join(sub.get("required", [])) for sub in error.validator_value if "required" in sub]
        yield at(loaded.file, where, "missing-field", f"{field} needs at least one of: {', '.join(options)}")
    elif error.validator == "not":
        yield at(loaded.file, where, "schema", f"{field}: {_not_message(error)}")
    else:
        yield at(loaded.file, where, _type_for(error), f"{field}: {_message(error)}" + _suffix(hint))


def _type_for(error: ValidationError) -> str:
    if error.validator == "pattern" and error.absolute_path and error.absolute_path[-1] == "file":
        value = str(error.instance)
        if "/" in value or "\\" in value or value.startswith("."):
            return "unsafe-path"
    return "schema"


def _message(error: ValidationError) -> str:
    value = error.instance
    shown = json.dumps(value, ensure_ascii=False) if not isinstance(value, (dict, list)) else type(value).__name__
    rule = error.validator
    if rule == "type":
        wanted = error.validator_value
        wanted_text = " or ".join(wanted) if isinstance(wanted, list) else wanted
        return f"{shown} is {_kind(value)}, expected {_article(wanted_text)}"
    if rule == "enum":
        choices = error.validator_value
        if len(choices) > 12:
            return f"{shown} is not one of the allowed codes"
        return f"{shown} is not one of: {', '.join(map(str, choices))}"
    if rule == "const":
        return f"{shown} must be {json.dumps(error.validator_value)}"
    if rule == "pattern":
        return f"{shown} is not in the expected form"
    if rule == "format":
        return f"{shown} is not a real {error.validator_value} (YYYY-MM-DD)"
    if rule in ("minItems", "minLength"):
        return "must not be empty" if error.validator_value == 1 else str(error.message)
    if rule == "uniqueItems":
        return "lists the same item twice"
    return str(error.message)


def _not_message(error: ValidationError) -> str:
    forbidden = error.validator_value.get("required", [])
    return f"leave out {' and '.join(forbidden)} here" if forbidden else "this combination of values is not allowed"


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {str: "text", int: "a whole number", float: "a decimal number", dict: "a mapping",
            list: "a list", type(None): "empty"}.get(type(value), type(value).__name__)


def _article(word: str) -> str:
    readable = {"string": "text", "integer": "a whole number", "object": "a mapping", "array": "a list",
                "boolean": "true or false", "number": "a number"}
    return readable.get(word, word)


def _description(schema: Any) -> str:
    if isinstance(schema, dict):
        return str(schema.get("description", ""))
    return ""


def _suffix(hint: str) -> str:
    return f". Expected: {hint}" if hint else ""
