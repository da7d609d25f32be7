"""The command line: exit codes, exact messages, and the same problems in every output format."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from belarus_releases import __version__
from belarus_releases.check.dataset import check_dataset
from belarus_releases.cli import cli
from belarus_releases.layout import Layout


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def first_record(layout: Layout) -> Path:
    return sorted(layout.records.glob("*.yml"))[0]


def break_three_fields(layout: Layout) -> str:
    """Make three independent mistakes in one record: an unknown precision, an unknown type, an unknown field."""
    path = first_record(layout)
    text = re.sub(r"(?m)^  precision: \w+$", "  precision: weekly", path.read_text(encoding="utf-8"), count=1)
    text = text.replace("\ntypes: [", "\ntypes: [picnic, ", 1)
    path.write_text(text + "sumary: x\n", encoding="utf-8")
    return layout.relative(path)


def test_validate_real_dataset_passes(real: Layout) -> None:
    code, output = invoke("validate", "--root", str(real.root))
    files = len(list(real.records.glob("*.yml"))) + 4  # the records, the two registries, metadata.yml, assertions.yml
    assert (code, output) == (0, f"{files} files checked, no problems.\n")


def test_three_mistakes_give_three_located_messages(repo: Layout) -> None:
    name = break_three_fields(repo)
    code, output = invoke("validate", "--root", str(repo.root))
    *problems, summary = output.splitlines()
    assert code == 1
    assert [line.split(" [")[1].split("]")[0] for line in problems] == ["schema", "schema", "unknown-field"], output
    assert all(re.match(rf"{re.escape(name)}:[1-9][0-9]*:[1-9][0-9]*: ", line) for line in problems), output
    assert summary == f"3 problems in 1 of {len(list(repo.records.glob('*.yml'))) + 4} files."


def test_exact_message_for_unknown_field(repo: Layout) -> None:
    path = first_record(repo)
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("title:"))
    lines[number] = lines[number].replace("title:", "titel:", 1)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    code, output = invoke("validate", "--root", str(repo.root))
    name = repo.relative(path)
    assert code == 1
    files = len(list(repo.records.glob("*.yml"))) + 4
    assert output == (f"{name}:{number + 1}:1: [unknown-field] unknown field 'titel' in the file; did you mean 'title'?\n"
                      f"1 problem in 1 of {files} files.\n")


def test_json_output_is_the_library_result(repo: Layout) -> None:
    break_three_fields(repo)
    code, output = invoke("validate", "--root", str(repo.root), "--json")
    expected = [p.to_dict() for p in check_dataset(repo).problems]
    assert code == 1
    assert json.loads(output) == {"valid": False, "files_checked": check_dataset(repo).files_checked, "problems": expected}


def test_github_format_annotates_each_problem(repo: Layout) -> None:
    name = break_three_fields(repo)
    code, output = invoke("validate", "--root", str(repo.root), "--format", "github")
    annotations = [line for line in output.splitlines() if line.startswith("::error ")]
    assert code == 1
    assert len(annotations) == 3
    assert all(line.startswith(f"::error file={name},line=") for line in annotations)


def test_outside_a_dataset_is_misuse(tmp_path: Path) -> None:
    code, output = invoke("validate", "--root", str(tmp_path))
    assert code == 2
    assert f"Error: {tmp_path} is not a dataset repository (it has no records/ folder)" in output


def test_unknown_option_is_misuse(real: Layout) -> None:
    code, output = invoke("validate", "--colour")
    assert code == 2
    assert "Error: No such option '--colour'." in output


def test_python_m_runs_the_same_cli(real: Layout) -> None:
    result = subprocess.run([sys.executable, "-m", "belarus_releases", "validate", "--root", str(real.root)],
                            capture_output=True, text=True, check=False)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.endswith("files checked, no problems.\n")


def test_version_option() -> None:
    code, output = invoke("--version")
    assert (code, output) == (0, f"belarus-releases, version {__version__}\n")
