"""Problems are data: every check returns them, reporters print them, nothing raises them.

Each problem type has a stable slug (used in `--json` output, GitHub annotations and the docs)
and a one-line explanation of what to do about it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

TYPES: dict[str, str] = {
    # reading the file
    "missing-file": "A file the dataset needs is missing: restore it from the main branch.",
    "empty-file": "The file is empty: write the record in it, or delete the file.",
    "file-too-large": "The file is larger than the size cap: split the content or shorten the quotes.",
    "not-utf8": "The file is not UTF-8 text: save it again as UTF-8 without a byte-order mark.",
    "byte-order-mark": "The file starts with a byte-order mark: save it as UTF-8 without BOM.",
    "control-character": "An invisible control character: delete it (retype the text around it).",
    "bidi-character": "A bidirectional control character, which can make text display differently from what it says: delete it.",
    "invisible-character": "An invisible character (zero-width space or joiner, soft hyphen, U+FEFF): delete it.",
    # YAML
    "yaml-syntax": "The YAML cannot be read: fix the syntax at this place.",
    "duplicate-key": "A key appears twice in the same mapping: keep one.",
    "yaml-anchor": "Anchors (&name) are not allowed: write the value out in full.",
    "yaml-alias": "Aliases (*name) are not allowed: write the value out in full.",
    "yaml-merge-key": "Merge keys (<<) are not allowed: write the keys out in full.",
    "yaml-tag": "Tags (!tag or !!type) are not allowed: remove the tag, and quote the value if it is text.",
    "complex-key": "Mapping keys must be plain words: use a field name from the schema.",
    "too-deep": "The file is nested deeper than any record needs: check the indentation.",
    "multiple-documents": "One record per file: remove the extra '---' document.",
    "ambiguous-value": "Other YAML tools read this value differently: put text in quotes; write counts as plain whole numbers.",
    "not-a-mapping": "The top level of the file must be a mapping of field names to values.",
    # content
    "mixed-script": ("A word mixes letters of two alphabets, or uses look-alike forms of letters (fullwidth, mathematical): "
                     "retype it in one alphabet."),
    "formula-like": "Text starting with = + - @, tab or carriage return runs as a formula in spreadsheets: reword it.",
    # schema
    "schema": "The value does not match the record schema.",
    "unknown-field": "This field is not in the schema: check its spelling.",
    "missing-field": "A required field is missing: add it.",
    # rules across fields and records
    "id-mismatch": "The id must equal the file name without .yml.",
    "bad-file-name": "File names must be the record id followed by .yml.",
    "date-mismatch": "The date fields do not agree with each other or with the id.",
    "count-range": "The release numbers do not agree with each other.",
    "duplicate-id": "Two entries share the same id: ids must be unique.",
    "unknown-person": "The person is not in registry/people.yml: add them there or fix the id.",
    "unknown-source": "The source file is not in registry/sources.yml or not under sources/.",
    "unknown-event": "The linked event is not the id of a record: use the current id of a record under records/.",
    "unsafe-path": "Source paths must be plain file names under sources/, not links or paths that leave it.",
    "bad-support": "The quote claims to support a fact the record does not have.",
    # provenance
    "quote-not-found": "The quote does not occur in the cited source file: copy it exactly.",
    "count-not-in-quote": ("No supporting quote writes this number in digits or words: "
                           "quote the sentence with the number, or say how it was derived in count_basis."),
    "fact-unsupported": "No quote supports this fact: add a quote and list the fact in its supports.",
    "figure-not-quoted": ("A bound (low, high), a count of prisoners held or a vague count's words is not in any quote that "
                          "supports that very field: quote the words that give it; these are never worked out."),
    "exact-not-earned": ("A count is exact only when a supporting quote states the total for this event: quote the total, "
                         "or make the qualifier at-least (or about)."),
    "official-not-named": ("A quote that supports an official does not name them: quote the sentence that names them (any "
                           "registered form of the name), or say in the official's basis how the quote identifies them."),
    "date-not-earliest": ("A record's id and sort date start on the earliest possible day of its date: give a range its "
                          "earliest bound (the earliest the text allows), and start the id with that day."),
    "variant-not-found": "The name form does not occur in any source file: copy it exactly from a source.",
    "ambiguous-name": "The same name form is listed for two people.",
    "source-changed": ("A source document differs from the SHA-256 recorded for it: restore it, or add the new version "
                       "as a new source."),
    "unused-entry": "Nothing refers to this registry entry or source file: cite it or remove it.",
    "too-many-problems": "The file has more problems than are shown: fix the ones shown and validate again.",
    "too-many-items": "A list is far longer than any file of this dataset needs: split it or check for a runaway paste.",
    "no-words": "The text has no letters or digits (only spaces or punctuation): write the words, or remove the field.",
    # the checker itself
    "internal-error": "The checker failed on this file: please report it, attaching the file.",
    # metadata.yml (validate, build and serve) and the build
    "metadata-invalid": ("metadata.yml does not match the built tables or is unsafe to serve: describe every table and "
                         "column, name only real ones, write plain text (no *_html keys) and only http(s) links."),
    "package-invalid": "The built tables fail a Frictionless or SQLite check: nothing was published; report this build bug.",
    "build-failed": ("Writing the outputs failed (disk full, permissions, another build running): "
                     "fix the cause and build again; nothing was changed."),
    "dataset-too-small": ("A table would have fewer rows than assertions.yml requires: "
                          "restore the missing records, or lower the bound and say why."),
    "events-removed": ("A published event has no record any more: "
                       "restore its file, or build with --allow-removals if the removal is intended."),
}


@dataclass(frozen=True, order=True)
class Problem:
    """One thing wrong with one place in one file. Line and column count from 1; 0 means the whole file."""

    file: str
    line: int
    col: int
    type: str
    message: str

    def __post_init__(self) -> None:
        if self.type not in TYPES:
            raise ValueError(f"unknown problem type {self.type!r}")

    def to_text(self) -> str:
        """One line, whatever the file name or message holds: a line break in a file name cannot forge a problem."""
        return f"{printable(self.file)}:{self.line}:{self.col}: [{self.type}] {printable(self.message)}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# Line breaks, other controls and bidi overrides, which would let a file name start a new line or reorder one.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]")
_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str) -> str:
    """`text` with every control or bidi character written as an escape (\\n, \\u202e), as Python would show it."""
    return _UNPRINTABLE.sub(lambda match: _ESCAPES.get(match.group(), f"\\u{ord(match.group()):04x}"), text)


Position = tuple[int, int]
JsonPath = tuple[str | int, ...]  # keys and list indexes from the top of a file's data down to one value


def at(file: str, position: Position, type_: str, message: str) -> Problem:
    """Build a problem at a (line, col) position."""
    return Problem(file, position[0], position[1], type_, message)


# What one item of each list is called, for paths in words people count in.
_ITEM = {"sources": "source", "quotes": "quote", "officials": "official", "sanctions_changes": "sanctions change",
         "types": "type", "supports": "supported fact", "nationalities": "nationality", "destinations": "destination",
         "people": "person", "variants": "variant", "roles": "role", "evidence": "evidence quote", "relays": "relay"}


def field_name(path: JsonPath) -> str:
    """A field's path as a program writes it, then in counted words where it goes through lists:
    `sources.0.quotes.2.text (source 1, quote 3)`."""
    technical = ".".join(str(part) for part in path) or "the file"
    words = [f"{_ITEM.get(str(parent), 'item')} {part + 1}" for parent, part in zip(("", *path), path, strict=False)
             if isinstance(part, int)]
    return f"{technical} ({', '.join(words)})" if words else technical
