"""The peers, run on the same files in the same run as the toolkit, each as a fresh process:

    python -m benchmarks.peers check-jsonschema REPO     # every records/*.yml against schema/record.schema.json
    python -m benchmarks.peers datasette ARGS...         # plain `datasette ARGS...`, without this project's plugin

check-jsonschema is called in process rather than with the files as arguments: 100,000 paths are more than a
command line holds. Plain Datasette is Datasette with the plugin that this environment registers through its
entry point taken out again before the command runs (Datasette 0.65 has no switch for that).
"""

from __future__ import annotations

import sys
from pathlib import Path

PLUGIN = "belarus_releases"


def check_jsonschema(root: Path) -> int:
    from check_jsonschema import main

    files = sorted(str(path) for path in (root / "records").glob("*.yml"))
    try:
        main.main(args=["--schemafile", str(root / "schema" / "record.schema.json"), *files],
                  prog_name="check-jsonschema")
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def check_jsonschema_parser() -> str:
    """Which YAML parser check-jsonschema reads with here: ruamel.yaml's C one needs an extra package
    (ruamel.yaml.clib, which the lock has through `ruamel.yaml[oldlibyaml]`); without it, the pure-Python one."""
    try:
        from ruamel.yaml import main
    except ImportError:
        return "unknown"
    return "C (libyaml)" if getattr(main, "CParser", None) is not None else "pure Python"


def plain_datasette(arguments: list[str]) -> int:
    from datasette.plugins import pm

    for name, plugin in list(pm.list_name_plugin()):
        if name == PLUGIN or getattr(plugin, "__name__", "").startswith(PLUGIN):
            pm.unregister(plugin)
    from datasette.cli import cli

    try:
        cli.main(args=arguments, prog_name="datasette")
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def records_as_one_list(root: Path, target: Path) -> Path:
    """Every record as one YAML list, the input yaml-to-sqlite takes: each file's lines indented under `- `."""
    with target.open("w", encoding="utf-8") as out:
        for path in sorted((root / "records").glob("*.yml")):
            lines = path.read_text(encoding="utf-8").splitlines()
            out.write("\n".join(["- " + lines[0], *("  " + line if line else "" for line in lines[1:])]) + "\n")
    return target


def main(argv: list[str]) -> int:
    if argv[:1] == ["check-jsonschema"]:
        return check_jsonschema(Path(argv[1]))
    if argv[:1] == ["datasette"]:
        return plain_datasette(argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
