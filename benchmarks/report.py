"""The results as Markdown (benchmarks/results.md, and README.md between its markers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.memory import SAMPLE_SECONDS

START, END = "<!-- bench:start -->", "<!-- bench:end -->"
STEPS = (("validate", "`validate`"), ("build", "`build`, cold"), ("rebuild_unchanged", "`build` again, nothing changed"),
         ("rebuild_one_changed", "`build` again, one record's summary changed"))


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "—"
    text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2g}" if abs(value) < 1 else f"{value:.1f}"
    return f"{text} {unit}".strip()


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    load = machine.get("load_average", [])
    lines = [f"Measured {machine['date'][:10]} on {machine['cores']} cores, Python {machine['python']}"
             + (f", load average {load[0]:.1f} at the start" if load else "")
             + f"; wall times of a fresh process each{_repeats(results)}"
             + ("; the toolkit's bytecode compiled first, as installing it does" if machine.get("bytecode_compiled") else "")
             + f"; peak memory: the most that a process and "
             f"the processes it started held together (their PSS, sampled every {SAMPLE_SECONDS:g} s). "
             f"Command: `{results['command']}`.", "",
             "| target | records | measured | target | met |", "|---|---:|---:|---|---|"]
    for row in results["targets"]:
        met = "—" if row["met"] is None else "yes" if row["met"] else "**no**"
        unit = row["unit"].split(" ")[0]
        measured = _number(row["measured"]) + "x" if unit == "x" and row["measured"] else _number(row["measured"], unit)
        lines.append(f"| {row['label']} | {row['records']:,} | {measured} | {row['target']} | {met} |")
    parser = machine.get("check_jsonschema_yaml_parser")
    for size, data in results["sizes"].items():
        lines += ["", *_size_tables(int(size), data, parser)]
    return "\n".join(lines) + "\n"


def _repeats(results: dict[str, Any]) -> str:
    runs = int(results.get("options", {}).get("repeat", 1))
    return f"; validate and each build run {runs} times: the median, with the range" if runs > 1 else ""


def _size_tables(size: int, data: dict[str, Any], parser: str | None) -> list[str]:
    lines = [f"**{size:,} records** (generated in {data['generate']['seconds']:.1f} s)", "",
             "| step | wall s | CPU s | peak MiB | in process: stages, s |", "|---|---:|---:|---:|---|"]
    for key, label in STEPS:
        if key in data:
            lines.append(_step_row(label, data[key], _stages(data[key])))
    ratios = data.get("ratios", {})
    peers = data.get("peers", {})
    if "check-jsonschema" in peers:
        times, cpu = _number(ratios.get("check-jsonschema")), _number(ratios.get("check-jsonschema-cpu"))
        reads = f"; its YAML parser here: {parser}" if parser else ""
        lines.append(_step_row(f"peer: check-jsonschema, same files (`validate` is {times}x as fast, {cpu}x in CPU time{reads})",
                               peers["check-jsonschema"], ""))
    if "yaml-to-sqlite" in peers:
        times = _number(ratios.get("yaml-to-sqlite"))
        lines.append(_step_row(f"peer: yaml-to-sqlite, records into one table (`build` takes {times}x its time, doing far "
                               "more)", peers["yaml-to-sqlite"], ""))
    serve = data.get("serve")
    if serve:
        lines += ["", *_serve_table(serve, ratios.get("serve", {}))]
    return lines


def _step_row(label: str, run: dict[str, Any], stages: str) -> str:
    if run.get("exit", 0) != 0:
        return f"| {label} | failed (exit {run['exit']}) | | | |"
    return (f"| {label} | {wall_time(run)} | {_number(run['cpu_seconds'])} | {_number(run['peak_mib'])} "
            f"| {stages} |")


def wall_time(run: dict[str, Any]) -> str:
    """The wall time, and when it is the median of several runs, their range: "72.8 (65.1–80.2)"."""
    samples = run.get("samples", [])
    if len(samples) < 2:
        return _number(run["seconds"])
    return f"{_number(run['seconds'])} ({_number(min(samples))}–{_number(max(samples))})"


def _stages(run: dict[str, Any]) -> str:
    stages = run.get("stages", {})
    return " · ".join(f"{name} {_number(seconds)}" for name, seconds in stages.items())


def _serve_table(serve: dict[str, Any], ratios: dict[str, float]) -> list[str]:
    ours, peer = serve.get("ours", {}), serve.get("datasette", {})
    lines = ["| request, 10 at a time | ours req/s | p50 ms | p99 ms | datasette req/s | p50 ms | p99 ms | ours ÷ datasette |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for kind, mine in ours.get("kinds", {}).items():
        other = peer.get("kinds", {}).get(kind, {})
        failed = f" ({mine['failed']} failed: {_failures(mine)})" if mine.get("failed") else ""
        lines.append(f"| {kind}{failed} | {_number(mine['rps'])} | {_number(mine['p50_ms'])} | {_number(mine['p99_ms'])} "
                     f"| {_number(other.get('rps'))} | {_number(other.get('p50_ms'))} | {_number(other.get('p99_ms'))} "
                     f"| {_number(ratios.get(kind))} |")
    lines.append(f"\nServer peak memory: ours {_number(ours.get('peak_mib'))} MiB, "
                 f"datasette {_number(peer.get('peak_mib'))} MiB.")
    return lines


def _failures(kind: dict[str, Any]) -> str:
    return ", ".join(f"{count} × HTTP {status}" if status != "0" else f"{count} unanswered"
                     for status, count in kind.get("failures", {}).items()) or "status not recorded"


def update_readme(readme: Path, table: str) -> bool:
    """Replace what stands between the markers in `readme` with `table`; False (nothing written) without them."""
    text = readme.read_text(encoding="utf-8")
    if START not in text or END not in text.split(START, 1)[1]:
        return False
    before, rest = text.split(START, 1)
    after = rest.split(END, 1)[1]
    readme.write_text(f"{before}{START}\n{table.strip()}\n{END}{after}", encoding="utf-8")
    return True
