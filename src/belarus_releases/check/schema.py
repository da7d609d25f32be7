"""Check, one file against its schema: JSON Schema (with format checking) and the rules inside one record.

Every problem is collected and located; jsonschema's messages are rewritten to say what to do,
using the description the schema gives for the field.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
import jsonschema.validators
from jsonschema.exceptions import ValidationError

from belarus_releases.check.fast_schema import Verdict, fast_verdict
from belarus_releases.check.rules import record_problems
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.layout import is_plain_file_name
from belarus_releases.problems import JsonPath, Problem, at, field_name

_unique_items = jsonschema.Draft202012Validator.VALIDATORS["uniqueItems"]


def _unique_items_within_bounds(validator: Any, unique: Any, instance: Any, schema: dict[str, Any]) -> Iterable[Any]:
    """uniqueItems, skipped for a list already longer than its maxItems: that list gets one maxItems error, and
    comparing thousands of mappings pairwise (jsonschema's way for unhashable items) would take many seconds."""
    if isinstance(instance, list) and len(instance) > schema.get("maxItems", len(instance)):
        return ()
    return _unique_items(validator, unique, instance, schema) or ()


_extend: Any = jsonschema.validators.extend  # typed loosely by jsonschema's stubs
BoundedValidator = _extend(jsonschema.Draft202012Validator, {"uniqueItems": _unique_items_within_bounds})


@lru_cache(maxsize=8)
def schema_validator(schema_path: Path) -> jsonschema.Draft202012Validator:
    """A validator for one schema file, with `format` checked (jsonschema skips it by default). The file must be
    one that files.schema_file_problems accepted, as check_dataset makes sure before it validates anything: it is
    not checked against the meta-schema again here (a tenth of a second, every time a record has changed)."""
    schema = json.loads(schema_path.read_text(encoding="utf-8"))
    validator: jsonschema.Draft202012Validator = BoundedValidator(schema, format_checker=jsonschema.FormatChecker())
    return validator


@lru_cache(maxsize=8)
def schema_verdict(schema_path: Path) -> Verdict:
    """The compiled test of validity that agrees with `schema_validator(schema_path)` (see fast_schema.py)."""
    validator = schema_validator(schema_path)
    return fast_verdict(validator.schema, validator.format_checker)


@dataclass(frozen=True)
class Validated:
    """What validating one loaded file found: its problems, and whether its data has the schema's shape.

    In shape means the schema found nothing wrong but unknown fields (typos), so the rules that read fields,
    here and across files, can run on it."""

    problems: tuple[Problem, ...]
    in_shape: bool


def validate_loaded(loaded: Loaded, validator: jsonschema.Draft202012Validator, *, is_record: bool,
                    valid: Callable[[Any], bool] | None = None) -> Validated:
    """Schema problems, then (for records in the schema's shape) the rules across their fields.

    `valid`, when given, is a faster test that agrees with `validator` on which data is valid: data it passes
    has no schema errors to explain, so only the rest go through `validator`, which writes every message."""
    if loaded.data is None:
        return Validated((), in_shape=False)
    errors = [] if valid is not None and valid(loaded.data) else list(validator.iter_errors(loaded.data))
    problems = sorted(set(schema_problems(loaded, errors)))
    # An unknown field (a typo) leaves every known field in shape, so the record's own rules still run.
    in_shape = all(p.type == "unknown-field" for p in problems)
    if is_record and in_shape:
        rules = _readable_record_problems(loaded, errors)
        in_shape = rules is not None
        problems.extend(rules or [])
    # a value the loader already called ambiguous (`count: 52.0`) gets that one message, not a second one
    ambiguous = {(p.line, p.col) for p in loaded.problems if p.type == "ambiguous-value"}
    return Validated(tuple(p for p in problems if (p.line, p.col) not in ambiguous), in_shape)


def _readable_record_problems(loaded: Loaded, errors: list[ValidationError]) -> list[Problem] | None:
    """The record's own rules; None when they read a required field whose name has a typo (so it is missing),
    and the rules here and across files must wait until the typo is fixed."""
    try:
        return record_problems(loaded)
    except KeyError:
        if all(error.validator == "additionalProperties" for error in errors):
            raise  # every required field is there: this is a bug, for dataset.py to report
        return None


def schema_problems(loaded: Loaded, errors: list[ValidationError]) -> Iterable[Problem]:
    typos = {(tuple(e.absolute_path), _close_match(key, _schema(e))) for e in errors if e.validator == "additionalProperties"
             for key in _extra_keys(e)}
    for error in errors:
        if error.validator == "required" and (tuple(error.absolute_path), _missing(error)) in typos:
            continue  # `tittle:` is reported once, as a typo of `title`, not also as a missing title
        if error.validator == "anyOf" and any((tuple(error.absolute_path), option) in typos for option in _options(error)):
            continue  # `persn:` is a typo of `person`, not also a missing person-or-unnamed
        yield from _explain(loaded, error)


def _options(error: ValidationError) -> list[str]:
    """The fields an anyOf of `required` alternatives asks for, one of which must be there."""
    return [field for sub in _rule(error) if isinstance(sub, dict) for field in sub.get("required", [])]


def _schema(error: ValidationError) -> dict[str, Any]:
    return dict(error.schema) if isinstance(error.schema, Mapping) else {}


def _rule(error: ValidationError) -> Any:
    """The value of the schema keyword that failed (typed loosely: it is whatever the schema says)."""
    return error.validator_value


def _instance(error: ValidationError) -> Any:
    return error.instance


def _extra_keys(error: ValidationError) -> list[str]:
    return sorted(set(_instance(error)) - set(_schema(error).get("properties", {})))


def _close_match(key: str, schema: dict[str, Any]) -> str | None:
    close = difflib.get_close_matches(key, sorted(schema.get("properties", {})), n=1)
    return close[0] if close else None


def _missing(error: ValidationError) -> str:
    return str(error.message).split("'")[1]


def _explain(loaded: Loaded, error: ValidationError) -> Iterable[Problem]:
    path: JsonPath = tuple(error.absolute_path)
    where = loaded.position(path)
    field = field_name(path)
    schema = _schema(error)
    if error.validator == "additionalProperties":
        allowed = sorted(schema.get("properties", {}))
        for key in _extra_keys(error):
            close = _close_match(key, schema)
            advice = f"did you mean '{close}'?" if close else f"the fields allowed here are: {', '.join(allowed)}"
            yield at(loaded.file, loaded.position((*path, key), key=True), "unknown-field",
                     f"unknown field '{key}' in {field}; {advice}")
    elif error.validator == "required":
        missing = _missing(error)
        property_schema = schema.get("properties", {}).get(missing, {})
        yield at(loaded.file, where, "missing-field",
                 f"{field} needs the field '{missing}'" + _suffix(_description(property_schema)))
    elif error.validator == "anyOf":
        options = [" and ".join(sub.get("required", [])) for sub in _rule(error) if "required" in sub]
        yield at(loaded.file, where, "missing-field", f"{field} needs at least one of: {', '.join(options)}")
    elif error.validator == "not":
        yield at(loaded.file, where, "schema", f"{field}: {_not_message(error)}")
    else:
        yield at(loaded.file, where, _type_for(error), f"{field}: {_message(error)}" + _suffix(_description(schema)))


def _type_for(error: ValidationError) -> str:
    is_file_name = error.validator == "pattern" and error.absolute_path and error.absolute_path[-1] == "file"
    return "unsafe-path" if is_file_name and not is_plain_file_name(str(error.instance)) else "schema"


def _shown(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return _kind(value)
    if isinstance(value, str):
        return f'"{value}"' if len(value) <= 60 else f'"{value[:50]}…"'
    return json.dumps(value)


_MESSAGES: dict[str, str] = {
    "const": "{shown} must be {rule}",
    "pattern": "{shown} is not in the expected form",
    "format": "{shown} is not a real {text} (YYYY-MM-DD)",
    "minLength": "is shorter than {rule} characters",
    "maxLength": "is longer than {rule} characters ({length}); shorten it",
    "minimum": "{shown} is less than {rule}",
    "maximum": "{shown} is more than {rule}",
    "minItems": "needs at least {rule} items",
    "maxItems": "has more than {rule} items",
    "uniqueItems": "lists the same item twice",
}


def _message(error: ValidationError) -> str:
    value, rule, name = _instance(error), _rule(error), str(error.validator)
    shown = _shown(value)
    if name == "type":
        wanted_text = " or ".join(rule) if isinstance(rule, list) else str(rule)
        if value is None:  # a blank left to fill, as `new` writes them
            return f"is blank; write {_article(wanted_text)} here"
        return f"{shown} is {_kind(value)}, expected {_article(wanted_text)}{_type_advice(value, wanted_text)}"
    if name == "enum":
        if len(rule) > 12:
            return f"{shown} is not one of the allowed codes"
        return f"{shown} is not one of: {', '.join(map(str, rule))}"
    if name in ("minItems", "minLength") and rule == 1:
        return "must not be empty"
    template = _MESSAGES.get(name, "does not meet the schema's '{name}' rule")
    length = len(value) if isinstance(value, (str, list)) else 0
    return template.format(shown=shown, rule=json.dumps(rule, ensure_ascii=False), text=rule, name=name, length=length)


def _type_advice(value: Any, wanted: str) -> str:
    if wanted == "string" and isinstance(value, (int, float, bool)):
        return "; put it in quotes"
    if wanted == "integer" and isinstance(value, str):
        return "; write the number in digits, without quotes" if value.strip().isdigit() else "; write a number in digits"
    return ""


def _not_message(error: ValidationError) -> str:
    rule = _rule(error)
    forbidden = rule.get("required", []) if isinstance(rule, dict) else []
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
