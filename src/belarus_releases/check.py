"""Check a whole dataset repository: load and validate every file, then the rules across files and provenance.

This is what `validate` runs and what `build` runs first. Per-file work (load, schema, record rules) is
independent for each file, so it can later be spread over processes or skipped for unchanged files.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .crossref import crossref_problems
from .layout import Layout
from .load import Loaded, load_file
from .problems import Problem
from .provenance import provenance_problems
from .validate import schema_validator, validate_loaded


@dataclass
class CheckResult:
    """Everything `check_dataset` found: the records that are valid on their own, the registries, every problem."""

    records: list[Loaded] = field(default_factory=list)
    people: Loaded | None = None
    sources: Loaded | None = None
    problems: list[Problem] = field(default_factory=list)
    files_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def record_files(layout: Layout) -> tuple[list[str], list[Problem]]:
    """The record files to check, and problems with names that will never be read (like .yaml)."""
    names, problems = [], []
    if layout.records.is_dir():
        for path in sorted(layout.records.iterdir()):
            relative = layout.relative(path)
            if path.suffix == ".yml" and path.is_file() and not path.is_symlink():
                names.append(relative)
            elif path.suffix in (".yaml", ".yml", ".json"):
                problems.append(Problem(relative, 0, 0, "bad-file-name",
                                        "records must be regular files named ID.yml; rename this file"))
    return names, problems


def check_file(layout: Layout, relative: str, schema: str) -> tuple[Loaded, list[Problem]]:
    """Load one file and validate it against one schema: the unit of work that parallelises."""
    loaded = load_file(layout.root, relative)
    problems = loaded.problems + validate_loaded(loaded, schema_validator(layout.schema(schema)), is_record=schema == "record")
    return loaded, problems


def _check_registry(layout: Layout, result: CheckResult, relative: str, schema: str) -> Loaded:
    if not (layout.root / relative).is_file():
        result.problems.append(Problem(relative, 0, 0, "missing-file", f"{relative} is missing"))
        return Loaded(relative)
    loaded, problems = check_file(layout, relative, schema)
    result.files_checked += 1
    result.problems.extend(problems)
    if problems:
        loaded.data = None
    return loaded


def check_dataset(layout: Layout) -> CheckResult:
    """Every problem in the dataset, sorted by file, line and column."""
    result = CheckResult()
    names, result.problems = record_files(layout)
    for relative in names:
        loaded, problems = check_file(layout, relative, "record")
        result.files_checked += 1
        result.problems.extend(problems)
        if not problems:
            result.records.append(loaded)
    result.people = _check_registry(layout, result, layout.relative(layout.people), "people")
    result.sources = _check_registry(layout, result, layout.relative(layout.source_registry), "sources")
    if result.people.data is not None and result.sources.data is not None:
        result.problems.extend(crossref_problems(layout, result.records, result.people, result.sources,
                                                  complete=len(result.records) == len(names)))
        result.problems.extend(provenance_problems(layout, result.records, result.people, result.sources))
    result.problems.sort()
    return result
