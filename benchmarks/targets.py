"""The performance targets of issue 12, in one place, and how a run's results are held against them.

Each target names the size it applies to and where its number is in the results of that size (results.json,
`sizes` -> N -> path). The runner measures; this module only compares.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import Any

GB_IN_MIB = 1e9 / 2**20


@dataclass(frozen=True)
class Target:
    label: str
    records: int
    path: tuple[str, ...]
    op: str  # "<=", "<" or ">="
    bound: float
    unit: str

    def text(self) -> str:
        bound = f"{self.bound:,.0f}" if self.bound >= 100 else f"{self.bound:g}"
        unit = self.unit if self.unit == "x" else f" {self.unit}"
        return f"{self.op.replace('<=', '≤').replace('>=', '≥')} {bound}{unit}"


SERVE = ("serve", "ours", "kinds")
TARGETS: dict[str, Target] = {
    "build-10k": Target("validate + build (`build`, cold)", 10_000, ("build", "seconds"), "<=", 5, "s"),
    "validate-vs-check-jsonschema": Target("validate, times faster than check-jsonschema", 10_000,
                                           ("ratios", "check-jsonschema"), ">=", 3, "x"),
    "rebuild-one-changed-10k": Target("rebuild after one record changed", 10_000, ("rebuild_one_changed", "seconds"),
                                      "<=", 1, "s"),
    "build-100k": Target("validate + build (`build`, cold)", 100_000, ("build", "seconds"), "<=", 60, "s"),
    "build-memory-100k": Target("peak memory of the build", 100_000, ("build", "peak_mib"), "<", GB_IN_MIB, "MiB (1 GB)"),
    "facets-rps": Target("site: events JSON with facets", 10_000, (*SERVE, "events JSON with facets", "rps"),
                         ">=", 200, "req/s"),
    "facets-p99": Target("site: events JSON with facets, p99", 10_000, (*SERVE, "events JSON with facets", "p99_ms"),
                         "<=", 150, "ms"),
    "facets-vs-datasette": Target("site: events JSON with facets, times plain datasette", 10_000,
                                  ("ratios", "serve", "events JSON with facets"), ">=", 10, "x"),
    **{f"{key}-{measure}": Target(f"site: {kind}{', p99' if measure == 'p99_ms' else ''}", 10_000,
                                  (*SERVE, kind, measure), *((">=", 100, "req/s") if measure == "rps" else ("<=", 300, "ms")))
       for key, kind in (("html", "events table HTML"), ("search", "search"), ("event-page", "event page"))
       for measure in ("rps", "p99_ms")},
}
_OPS = {"<=": operator.le, "<": operator.lt, ">=": operator.ge}


def value_at(results: dict[str, Any], target: Target) -> float | None:
    """The measured number for `target`, or None when that size or step was not measured (or failed)."""
    data: Any = results.get("sizes", {}).get(str(target.records))
    for key in target.path:
        if not isinstance(data, dict) or data.get("exit", 0) != 0:  # a step that failed measured nothing
            return None
        data = data.get(key)
    if isinstance(data, dict) or data is None:
        return None
    return float(data)


def evaluate(results: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per target: what it is, the measured value (None if not measured) and whether it is met."""
    rows = []
    for key, target in TARGETS.items():
        value = value_at(results, target)
        rows.append({"key": key, "label": target.label, "records": target.records, "target": target.text(),
                     "unit": target.unit, "measured": value,
                     "met": None if value is None else bool(_OPS[target.op](value, target.bound))})
    return rows
