"""`make bench`: measure the toolkit on generated repositories of N records, with its peers on the same files.

For each N: generate the repository (generate.py), then, each in a fresh process so that its peak memory is its
own: `validate`; a cold `build`; `build` again with nothing changed; `build` again after one record's summary
changed; and, up to --full-up-to records (the targets' size), check-jsonschema and yaml-to-sqlite on the same
records and `belarus-releases serve` and plain `datasette` under a bounded load (serving.py). Writes
benchmarks/results.json and results.md, prints the table, and puts it in README.md between its markers. Asserts
nothing: the targets (targets.py) are reported, met or not.

    python -m benchmarks.run                          # 1,000, 10,000 and 100,000 records (about 15 minutes, 3 GB)
    python -m benchmarks.run --records 1000 --quick   # a quick look
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from benchmarks.generate import ROOT, generate
from benchmarks.measure import PYTHON, Run, measure
from benchmarks.peers import check_jsonschema_parser, records_as_one_list
from benchmarks.report import markdown, update_readme
from benchmarks.serving import serve_benchmark
from benchmarks.targets import evaluate

HERE = Path(__file__).resolve().parent
PACKAGES = ("belarus-releases", "jsonschema", "jsonschema-rs", "pyyaml", "frictionless", "datasette", "sqlite-utils",
            "check-jsonschema", "ruamel.yaml", "ruamel.yaml.clib", "yaml-to-sqlite")
DEFAULT_SIZES = (1_000, 10_000, 100_000)
INPUTS = ("records", "registry", "sources", "schema", "metadata.yml", "assertions.yml")


def machine() -> dict[str, Any]:
    versions: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = None
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False)
    return {"date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), "cores": os.cpu_count(),
            "python": platform.python_version(), "platform": platform.platform(), "commit": commit.stdout.strip() or None,
            "load_average": [round(load, 2) for load in os.getloadavg()], "versions": versions,
            "check_jsonschema_yaml_parser": check_jsonschema_parser()}


def compiled(folders: tuple[Path, ...] = (ROOT / "src", HERE)) -> bool:
    """The toolkit's bytecode (and the benchmark's own) written beforehand, as installing a package does: the peers,
    installed by pip, start from theirs, while an editable install writes it only when Python may (not under
    PYTHONDONTWRITEBYTECODE, as on some machines), and every measured process would compile the toolkit anew."""
    return all(compileall.compile_dir(folder, quiet=1) for folder in folders)


def child_env() -> dict[str, str]:
    """The environment of every measured process: benchmarks/ importable, no colours, no terminal."""
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{ROOT}{os.pathsep}{path}" if path else str(ROOT), "NO_COLOR": "1"}


def reset(root: Path) -> None:
    """Everything but the inputs removed (build/, and any cache a build keeps beside them): the next run is cold."""
    for path in root.iterdir():
        if path.name not in INPUTS:
            shutil.rmtree(path) if path.is_dir() and not path.is_symlink() else path.unlink()


def change_one_record(root: Path, attempt: int) -> str:
    """Give one record (a different one each attempt) a new summary; returns its file name."""
    names = sorted(path.name for path in (root / "records").iterdir())
    path = root / "records" / names[(len(names) // 2 + attempt) % len(names)]
    text, changed = re.subn(r"^summary: .*$", f"summary: 'Changed for the benchmark, attempt {attempt}.'",
                            path.read_text(encoding="utf-8"), count=1, flags=re.MULTILINE)
    if not changed:
        raise RuntimeError(f"{path} has no one-line summary to change")
    path.write_text(text, encoding="utf-8")
    return path.name


def command_run(root: Path, work: Path, command: str) -> Run:
    """One `belarus-releases COMMAND --root ROOT` in a fresh process, with its stages timed (stages.py)."""
    out = work / "stages.json"
    out.unlink(missing_ok=True)
    run = measure([PYTHON, "-m", "benchmarks.stages", str(out), command, "--root", str(root)], env=child_env())
    if out.is_file():
        run.details.update(json.loads(out.read_text(encoding="utf-8")))
    return run


def repeated(times: int, prepare: Callable[[int], object], action: Callable[[], Run]) -> dict[str, Any]:
    """The run with the median wall time of `times` runs (each after `prepare`), and every run's wall time; the first
    failed run instead, when one failed (a run that fails fast would never be the median, and hide it)."""
    runs = []
    for attempt in range(times):
        prepare(attempt)
        runs.append(action())
    failed = [run for run in runs if run.exit != 0]
    chosen = failed[0] if failed else sorted(runs, key=lambda run: run.seconds)[(len(runs) - 1) // 2]
    result = chosen.as_json()
    if times > 1:
        result["samples"] = [round(run.seconds, 3) for run in runs]
    return result


def measure_size(work: Path, count: int, options: argparse.Namespace, log: Callable[[str], None]) -> dict[str, Any]:
    root = work / "repo"
    start = time.perf_counter()
    generate(root, count, options.seed)
    data: dict[str, Any] = {"generate": {"seconds": round(time.perf_counter() - start, 3)}}
    log(f"{count:,} records generated in {data['generate']['seconds']:.1f} s")
    steps: list[tuple[str, str, Callable[[int], object]]] = [
        ("validate", "validate", lambda _: reset(root)), ("build", "build", lambda _: reset(root)),
        ("rebuild_unchanged", "build", lambda _: None),
        ("rebuild_one_changed", "build", lambda attempt: change_one_record(root, attempt))]
    for key, command, prepare in steps:
        data[key] = repeated(options.repeat, prepare, partial(command_run, root, work, command))
        log(f"  {key}: {data[key]['seconds']:.1f} s, {data[key]['peak_mib']:.0f} MiB, exit {data[key]['exit']}")
    full = count <= options.full_up_to  # past it the peers and serving would take most of the run, and no target asks
    if full and not options.no_peers:
        data["peers"] = peers(root, work)
        log("  peers: " + ", ".join(f"{name} {run['seconds']:.1f} s" for name, run in data["peers"].items()))
    if full and not options.no_serve and data["rebuild_one_changed"]["exit"] == 0:
        data["serve"] = serve_benchmark(root, options.requests, options.concurrency, env=child_env())
        log("  serving measured")
    data["ratios"] = ratios(data)
    return data


def peers(root: Path, work: Path) -> dict[str, Any]:
    database, listed = work / "peer.db", records_as_one_list(root, work / "records.yml")
    loader = "from yaml_to_sqlite.cli import cli; cli()"
    return {"check-jsonschema": measure([PYTHON, "-m", "benchmarks.peers", "check-jsonschema", str(root)],
                                        env=child_env()).as_json(),
            "yaml-to-sqlite": measure([PYTHON, "-c", loader, str(database), "events", str(listed), "--pk", "id"],
                                      env=child_env()).as_json()}


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    return round(numerator / denominator, 2) if numerator and denominator else None


def _seconds(run: dict[str, Any] | None, measure: str = "seconds") -> float | None:
    return run[measure] if run and run.get("exit") == 0 else None


def ratios(data: dict[str, Any]) -> dict[str, Any]:
    """How many times faster the toolkit is than each peer, from the same run (below 1: slower)."""
    found = data.get("peers", {})
    peer, validate = found.get("check-jsonschema"), data.get("validate")
    result: dict[str, Any] = {"check-jsonschema": _ratio(_seconds(peer), _seconds(validate)),
                              # CPU time too: on a busy machine a process's share of the cores moves its wall time
                              "check-jsonschema-cpu": _ratio(_seconds(peer, "cpu_seconds"), _seconds(validate, "cpu_seconds")),
                              "yaml-to-sqlite": _ratio(_seconds(data.get("build")), _seconds(found.get("yaml-to-sqlite")))}
    serve = data.get("serve", {})
    ours, plain = serve.get("ours", {}).get("kinds", {}), serve.get("datasette", {}).get("kinds", {})
    result["serve"] = {kind: _ratio(mine["rps"], plain.get(kind, {}).get("rps")) for kind, mine in ours.items()}
    return result


def _at_least_one(text: str) -> int:
    number = int(text)
    if number < 1:
        raise argparse.ArgumentTypeError("must be 1 or more")
    return number


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, action="append",
                        help="how many records (repeatable; default 1000, 10000 and 100000)")
    parser.add_argument("--full-up-to", type=int, default=10_000,
                        help="the largest size that also runs the peers and serving (default: 10000)")
    parser.add_argument("--quick", action="store_true", help="fewer requests per kind (30), for a quick look")
    parser.add_argument("--requests", type=int, default=100, help="requests of each kind (default: 100)")
    parser.add_argument("--concurrency", type=int, default=10, help="requests in flight at once (default: 10)")
    parser.add_argument("--repeat", type=_at_least_one, default=3,
                        help="runs of validate and each build; the median is kept (default 3: on a shared machine one "
                             "run can be a fifth slower or faster than the next)")
    parser.add_argument("--seed", type=int, default=0, help="the generator's seed (default: 0)")
    parser.add_argument("--no-peers", action="store_true", help="skip check-jsonschema and yaml-to-sqlite")
    parser.add_argument("--no-serve", action="store_true", help="skip the serving benchmark")
    parser.add_argument("--no-readme", action="store_true", help="leave README.md as it is")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.json and results.md go (default: benchmarks/)")
    parser.add_argument("--workdir", type=Path, help="where the repositories are generated (default: a temporary folder)")
    options = parser.parse_args()
    options.records = options.records or list(DEFAULT_SIZES)
    if options.quick:
        options.requests = 30
    return options


def main() -> None:
    options = arguments()
    results: dict[str, Any] = {"machine": machine(), "command": "make bench" if options.records == list(DEFAULT_SIZES)
                               else f"python -m benchmarks.run {' '.join(f'--records {n}' for n in options.records)}"
                               + (" --quick" if options.quick else ""),
                               "options": {key: str(value) if isinstance(value, Path) else value
                                           for key, value in vars(options).items()}, "sizes": {}}
    options.out.mkdir(parents=True, exist_ok=True)
    if options.workdir:  # made if it is not there yet, as --out is
        options.workdir.mkdir(parents=True, exist_ok=True)
    results["machine"]["bytecode_compiled"] = compiled()
    for count in options.records:
        with tempfile.TemporaryDirectory(dir=options.workdir, prefix=f"bench-{count}-") as folder:
            results["sizes"][str(count)] = measure_size(Path(folder), count, options, lambda line: print(line, flush=True))
        results["targets"] = evaluate(results)
        (options.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    results["machine"]["load_average_end"] = [round(load, 2) for load in os.getloadavg()]
    (options.out / "results.json").write_text(json.dumps(results, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = markdown(results)
    (options.out / "results.md").write_text(table, encoding="utf-8")
    print("\n" + table)
    if not options.no_readme and not update_readme(ROOT / "README.md", table):
        print("README.md has no <!-- bench:start --> / <!-- bench:end --> markers; left as it is")


if __name__ == "__main__":
    main()
