"""Run one `belarus-releases` command in this process, timing the build's stages on the way, and write the times
as JSON. The runner starts this as a fresh process per measurement:

    python -m benchmarks.stages OUT.json build --root REPO

Stages are found by the names of the functions `validate` and `build` call (STAGES; "Class.method" for a method),
wherever the toolkit's modules hold them, and each is timed without the time of the others it calls: what no
stage names is counted in the stage of the function that called it. A test checks that the toolkit still has
every name (a renamed function would otherwise move its time, unseen, into its caller's stage).
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import pkgutil
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

STAGES: dict[str, tuple[str, ...]] = {
    "check": ("check_dataset", "check_provenance", "crossref_problems", "official_problems",
              "load_metadata", "load_assertions"),
    "flatten": ("flatten_values",),
    "write": ("write_table_values", "splice_table", "write_datapackage", "copy_source_texts", "write_manifest"),
    "verify": ("verified_package", "PackageVerifier.verified", "removal_problems"),
    # The database process's work (the database, its checks, the Parquet files, overview.md, the chart) runs in
    # another process, beside the stages above: what is timed here is how long the build then waits for it.
    "database": ("DatabaseJob.parquet_written", "DatabaseJob.result"),
    # the rest of a release: the lock, the staging folder, the switch of build/current, removing old releases
    "publish": ("release", "publish", "remove_leftovers"),
}
# validate imports the checker only; importing the writers too would add their import time to validate's
PACKAGES = {"validate": ("belarus_releases.check",), "build": ("belarus_releases.check", "belarus_releases.export")}


class Timer:
    """Time spent in each wrapped function itself: a nested wrapped call is counted only in its own function."""

    def __init__(self) -> None:
        self.own: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._inner: list[float] = []

    def wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._inner.append(0.0)
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                self.own[name] += elapsed - self._inner.pop()
                self.calls[name] += 1
                if self._inner:
                    self._inner[-1] += elapsed

        return timed


def stage_functions(packages: tuple[str, ...]) -> list[tuple[Any, str, str, Callable[..., Any]]]:
    """Every place a STAGES function is held in the modules of `packages` (each imported): (the module or class,
    the attribute, the stage name, the function)."""
    for package in packages:
        module = importlib.import_module(package)
        for info in pkgutil.walk_packages(module.__path__, package + "."):
            importlib.import_module(info.name)
    found: list[tuple[Any, str, str, Callable[..., Any]]] = []
    for module in [module for name, module in sorted(sys.modules.items()) if name.startswith("belarus_releases")]:
        for name in {name for names in STAGES.values() for name in names}:
            owner_name, _, attribute = name.rpartition(".")
            owner = getattr(module, owner_name, None) if owner_name else module
            if owner_name and getattr(owner, "__module__", None) != module.__name__:
                continue  # a class imported from elsewhere: wrapped where it is defined
            original = getattr(owner, attribute, None) if owner is not None else None
            # a generator function returns before its work is done: timing the call would time nothing
            if inspect.isfunction(original) and not inspect.isgeneratorfunction(original):
                found.append((owner, attribute, name, original))
    return found


def instrument(timer: Timer, packages: tuple[str, ...]) -> list[str]:
    """Wrap every STAGES function in every module of `packages` (one wrapper per function, wherever it was
    imported to); returns the names found."""
    wrappers: dict[int, Callable[..., Any]] = {}
    found = stage_functions(packages)
    for owner, attribute, name, original in found:
        wrapper = wrappers.setdefault(id(original), timer.wrap(name, original))
        setattr(owner, attribute, wrapper)
    return sorted({name for _, _, name, _ in found})


def stage_times(timer: Timer) -> dict[str, float]:
    return {stage: round(sum(timer.own.get(name, 0.0) for name in names), 3)
            for stage, names in STAGES.items() if any(name in timer.calls for name in names)}


def main(argv: list[str]) -> int:
    out, command = Path(argv[0]), argv[1:]
    timer = Timer()
    found = instrument(timer, PACKAGES.get(command[0], PACKAGES["build"]))
    from belarus_releases.cli import cli

    start = time.perf_counter()
    try:
        cli.main(args=command, prog_name="belarus-releases")
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 1
    seconds = time.perf_counter() - start
    report = {"in_process_seconds": round(seconds, 3), "stages": stage_times(timer),
              "functions": {name: round(timer.own[name], 3) for name in sorted(timer.own)},
              "instrumented": found}
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
