"""The validation test corpus: a small valid dataset, and the broken and valid variants of its one record.

tests/fixtures/mini/ holds one valid record (quotes copied from sources/004_89c879bc2f5c7943.txt) and a
registry that fits it. Each tests/fixtures/invalid/CASE.yml is that record with exactly one defect, and
CASE.expected holds the exact `validate` lines for it when checked inside the mini dataset. The first
line's file name says where the case goes in records/ (usually in place of the base record).
Each tests/fixtures/valid/valid-*.yml is a valid variant that replaces the base record.

Two datasets are used: "mini" (the real repository with records/ and registry/ replaced by the mini
ones, and only the one source file), and "real" (the real records and registry plus the base record),
which is only used once the real dataset validates cleanly.
"""

from __future__ import annotations

import functools
import shutil
from dataclasses import dataclass
from pathlib import Path

from belarus_releases.layout import Layout

TESTS = Path(__file__).resolve().parent
FIXTURES = TESTS / "fixtures"
MINI = FIXTURES / "mini"
SOURCE = "004_89c879bc2f5c7943.txt"
BASE_ID = "2025-09-11-coale-minsk-release"
BASE_TARGET = f"records/{BASE_ID}.yml"
BASE_RECORD = MINI / BASE_TARGET
DATASETS = ("mini", "real")


@dataclass(frozen=True)
class Case:
    """One fixture: its bytes, where it goes, and (for invalid ones) the exact expected lines."""

    name: str
    raw: bytes
    target: str
    expected: tuple[str, ...] = ()

    @property
    def own_lines(self) -> tuple[str, ...]:
        """The expected lines about the case's own file (the part that holds in any dataset)."""
        return tuple(line for line in self.expected if line.startswith(self.target + ":"))


def invalid_cases() -> list[Case]:
    cases = []
    for path in sorted((FIXTURES / "invalid").glob("*.yml")):
        expected = tuple(path.with_suffix(".expected").read_text(encoding="utf-8").splitlines())
        target = expected[0].split(":", 1)[0] if expected else BASE_TARGET
        cases.append(Case(path.stem, path.read_bytes(), target, expected))
    return cases


def valid_cases() -> list[Case]:
    return [Case(path.stem, path.read_bytes(), BASE_TARGET) for path in sorted((FIXTURES / "valid").glob("valid-*.yml"))]


def expected_type(line: str) -> str:
    """The [type] slug of an expected line."""
    return line.split("[", 1)[1].split("]", 1)[0]


def make_mini(layout: Layout) -> Layout:
    """Turn a copy of the repository into the mini dataset: the base record, its registry, its one source, its assertions."""
    for part in ("records", "registry"):
        shutil.rmtree(layout.root / part, ignore_errors=True)
        shutil.copytree(MINI / part, layout.root / part)
    shutil.copy(MINI / "assertions.yml", layout.assertions)
    for source in layout.sources.iterdir():
        if source.name != SOURCE:
            source.unlink()
    return layout


def make_real(layout: Layout) -> Layout:
    """Add the base record to a copy of the real dataset (it cites only people and sources the real registry has)."""
    target = layout.root / BASE_TARGET
    assert not target.exists(), f"the real dataset already has {BASE_TARGET}; rename the test fixture"
    shutil.copy(BASE_RECORD, target)
    return layout


@functools.cache
def prepare(layout: Layout, dataset: str) -> Layout:
    """The dataset named by `dataset` in the repository copy `layout`, with the base record in it."""
    return make_mini(layout) if dataset == "mini" else make_real(layout)


def place(layout: Layout, case: Case) -> Path:
    """Write the case into the dataset where its expected output says it is."""
    path = layout.root / case.target
    path.write_bytes(case.raw)
    return path


def lines_for(text: str, file: str) -> list[str]:
    """The problem lines of `validate` text output about one file."""
    return [line for line in text.splitlines() if line.startswith(file + ":")]


def tree_bytes(*paths: Path) -> dict[str, bytes]:
    """Every file under the given files or folders, by path, with its bytes: to show that nothing changed."""
    found: dict[str, bytes] = {}
    for top in paths:
        files = [top] if top.is_file() else sorted(p for p in top.rglob("*") if p.is_file())
        found.update({str(p): p.read_bytes() for p in files})
    return found
