"""Reporters for a DatasetDiff: text for a terminal, Markdown for a pull-request comment, JSON for programs.

Text and Markdown shorten long values and escape what could change how they display (control and bidi
characters everywhere; Markdown and HTML too in Markdown, since a record's title ends up in a PR comment).
JSON holds every value in full.
"""

from __future__ import annotations

import json
import string
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from belarus_releases.problems import printable

if TYPE_CHECKING:  # for annotations only: the CLI imports this module for FORMATS, whatever the command
    from belarus_releases.diff import DatasetDiff, Side, TableDiff
    from belarus_releases.export.flatten import Row
    from belarus_releases.tables import Table

FORMATS = ("text", "markdown", "json")
MAX_VALUE = 80  # characters of a value shown in text and Markdown
MAX_PROBLEMS = 5  # problems shown for a side that does not validate
# The column that tells a reader which row it is, where the first column after the key would not.
LABELS = {"events": "title", "quotes": "text"}


def render_diff(diff: DatasetDiff, fmt: str) -> str:
    return {"text": as_text, "markdown": as_markdown, "json": as_json}[fmt](diff)


def as_json(diff: DatasetDiff) -> str:
    return json.dumps(diff.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


# Shared ------------------------------------------------------------------------------------------------------

def describe(side: Side) -> str:
    return "the working tree" if side.commit is None else f"{side.revision} at {side.commit[:10]}"


def counts(diff: TableDiff) -> str:
    return f"{len(diff.added)} added, {len(diff.changed)} changed, {len(diff.removed)} removed"


def not_valid(side: Side) -> str:
    noun = "problem" if len(side.problems) == 1 else "problems"
    # The working tree is not called HEAD, which would read as git's HEAD commit.
    subject = "The working tree" if side.commit is None else f"{side.label} ({describe(side)})"
    return f"{subject} does not validate ({len(side.problems)} {noun}); no table diff."


def more_problems(side: Side) -> str | None:
    hidden = len(side.problems) - MAX_PROBLEMS
    return f"… and {hidden} more" if hidden > 0 else None


def shown(value: Any) -> str:
    """A value on one line: text as it is, lists and numbers as JSON, nothing as (none); long ones shortened."""
    if value is None:
        return "(none)"
    text = printable(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"


def key_text(table: Table, row: Row) -> str:
    return " / ".join(shown(value) for value in table.sort_key(row))


def label_column(table: Table) -> str | None:
    rest = [name for name in table.column_names if name not in table.primary_key]
    return LABELS.get(table.name, rest[0] if rest else None)


def row_lines(diff: TableDiff) -> Iterator[tuple[str, str, str | None, Any, Any]]:
    """(mark, key, column, old, new) for every difference: one line per added or removed row, one per changed field."""
    table, label = diff.table, label_column(diff.table)
    for row in diff.added:
        yield "+", key_text(table, row), label, None, row[label] if label else None
    for change in diff.changed:
        key = " / ".join(shown(value) for value in change.key)
        for column, (old, new) in change.fields.items():
            yield "~", key, column, old, new
    for row in diff.removed:
        yield "-", key_text(table, row), label, row[label] if label else None, None


# Text ----------------------------------------------------------------------------------------------------------

def as_text(diff: DatasetDiff) -> str:
    lines = [f"{printable(describe(diff.base))} → {printable(describe(diff.head))}"]
    for side in (diff.base, diff.head):
        if not side.ok:
            lines += [printable(not_valid(side)), *(f"  {p.to_text()}" for p in side.problems[:MAX_PROBLEMS])]
            lines += [f"  {more}" for more in [more_problems(side)] if more]
    if diff.comparable and not diff.tables:
        lines.append("No changes to the published tables.")
    for table_diff in diff.tables:
        lines.append(f"{table_diff.table.name}: {counts(table_diff)}")
        lines += [text_line(*line) for line in row_lines(table_diff)]
    return "\n".join(lines) + "\n"


def text_line(mark: str, key: str, column: str | None, old: Any, new: Any) -> str:
    if column is None:
        return f"{mark} {key}"
    value = shown(new if mark == "+" else old)
    return f"{mark} {key}  {column}: {shown(old)} → {shown(new)}" if mark == "~" else f"{mark} {key}  {column}: {value}"


# Markdown ------------------------------------------------------------------------------------------------------

_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}
_PUNCTUATION = frozenset(string.punctuation) - frozenset(_ENTITIES)


def md(text: str) -> str:
    """`text` as literal Markdown: HTML characters as entities, every other ASCII punctuation mark backslash-escaped,
    so no link, image, tag, emphasis, table cell break (|) or autolink (http\\://) can form."""
    return "".join(_ENTITIES.get(char) or (f"\\{char}" if char in _PUNCTUATION else char) for char in text)


def as_markdown(diff: DatasetDiff) -> str:
    lines = ["## Changes to the published tables", "", f"{md(describe(diff.base))} → {md(describe(diff.head))}", ""]
    for side in (diff.base, diff.head):
        if not side.ok:
            lines += [md(not_valid(side)), "", *(f"- {md(p.to_text())}" for p in side.problems[:MAX_PROBLEMS])]
            lines += [f"- {md(more)}" for more in [more_problems(side)] if more]
            lines.append("")
    if diff.comparable and not diff.tables:
        lines += ["No changes to the published tables.", ""]
    if diff.tables:
        lines += ["| table | added | changed | removed |", "|---|---:|---:|---:|"]
        lines += [f"| {d.table.name} | {len(d.added)} | {len(d.changed)} | {len(d.removed)} |" for d in diff.tables]
        lines.append("")
    for table_diff in diff.tables:
        lines += markdown_details(table_diff)
    return "\n".join(lines)


def markdown_details(diff: TableDiff) -> list[str]:
    rows = [f"| {md(mark)} | {md(key)} | {md(column or '')} | {cell(column, mark != '+', old)} | "
            f"{cell(column, mark != '-', new)} |" for mark, key, column, old, new in row_lines(diff)]
    return [f"<details><summary>{diff.table.name}: {counts(diff)}</summary>", "",
            "| | key | column | old | new |", "|---|---|---|---|---|", *rows, "", "</details>", ""]


def cell(column: str | None, present: bool, value: Any) -> str:
    """A value in a table cell; empty for the side a row does not exist on, or when only the key is shown."""
    return md(shown(value)) if column is not None and present else ""
