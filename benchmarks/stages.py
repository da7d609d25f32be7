"""Run one `belarus-releases` command in this process, timing the build's stages on the way, and write the times
as JSON. The runner starts this as a fresh process per measurement:

    python -m benchmarks.stages OUT.json build --root REPO

Stages are found by the names of the functions `validate` and `build` call (STAGES; "Class.method" for a method),
wherever the toolkit's modules hold them, each wrapped as its module is imported by the command (Instrumented),
and each is timed without the time of the others it calls: what no stage names is counted in the stage of the
function that called it. A test checks that a build still has every name (a renamed function would otherwise
move its time, unseen, into its caller's stage).
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import inspect
import json
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType
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
TOOLKIT = "belarus_releases"


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


def _stage_functions(module: ModuleType) -> Iterator[tuple[Any, str, str, Callable[..., Any]]]:
    """Where `module` holds a STAGES function: (the module or class, the attribute, the stage name, the function)."""
    for name in {name for names in STAGES.values() for name in names}:
        owner_name, _, attribute = name.rpartition(".")
        owner = getattr(module, owner_name, None) if owner_name else module
        if owner_name and getattr(owner, "__module__", None) != module.__name__:
            continue  # a class imported from elsewhere: wrapped where it is defined
        original = getattr(owner, attribute, None) if owner is not None else None
        # a generator function returns before its work is done: timing the call would time nothing
        if inspect.isfunction(original) and not inspect.isgeneratorfunction(original):
            yield owner, attribute, name, original


class Instrumented(importlib.abc.MetaPathFinder):
    """While installed, each toolkit module has its STAGES functions wrapped by `timer` as soon as it is imported
    (one wrapper per function, wherever it was imported to: a module that imports one from another takes the
    wrapper). Nothing is imported ahead of the command, which so imports what it would, when it would: `build`
    starts its database process before it imports the build, and never imports pyarrow itself."""

    def __init__(self, timer: Timer) -> None:
        self.timer = timer
        self.wrappers: dict[int, Callable[..., Any]] = {}  # by the id of the function each wraps
        self.found: set[str] = set()

    def __enter__(self) -> Instrumented:
        for name, module in list(sys.modules.items()):
            if name.split(".")[0] == TOOLKIT:
                self.wrap(module)
        sys.meta_path.insert(0, self)
        return self

    def __exit__(self, *_: object) -> None:
        sys.meta_path.remove(self)

    def find_spec(self, name: str, path: Sequence[str] | None, target: ModuleType | None = None) -> ModuleSpec | None:
        if name.split(".")[0] != TOOLKIT:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        loader = spec.loader if spec is not None else None
        if isinstance(loader, importlib.machinery.SourceFileLoader):
            execute = loader.exec_module

            def execute_and_wrap(module: ModuleType) -> None:
                execute(module)
                self.wrap(module)

            loader.exec_module = execute_and_wrap  # type: ignore[method-assign]  # this spec's own loader
        return spec

    def wrap(self, module: ModuleType) -> None:
        own = {id(wrapper) for wrapper in self.wrappers.values()}
        for owner, attribute, name, original in list(_stage_functions(module)):
            if id(original) not in own:
                setattr(owner, attribute, self.wrappers.setdefault(id(original), self.timer.wrap(name, original)))
                self.found.add(name)


def stage_times(timer: Timer) -> dict[str, float]:
    return {stage: round(sum(timer.own.get(name, 0.0) for name in names), 3)
            for stage, names in STAGES.items() if any(name in timer.calls for name in names)}


def main(argv: list[str]) -> int:
    out, command = Path(argv[0]), argv[1:]
    timer = Timer()
    with Instrumented(timer) as instrumented:
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
              "instrumented": sorted(instrumented.found)}
    out.write_text(json.dumps(report, indent=1), encoding="utf-8")
    missing = {name for names in STAGES.values() for name in names} - instrumented.found
    if missing and command[0] == "build":  # their time would be counted, unseen, in the stage of their callers
        print(f"stages.py: not timed, not found where the build imported them: {', '.join(sorted(missing))}",
              file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
