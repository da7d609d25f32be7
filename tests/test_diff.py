"""diff: the published tables of two revisions compared by primary key, on a small git repository made here.

The history has two tagged commits of the build fixture dataset: `base`, and `head`, which adds one record,
removes another, and changes the title and release count of a third.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from belarus_releases.cli import cli
from belarus_releases.diff import DatasetDiff, RowChange, Side, diff_revisions
from belarus_releases.layout import Layout
from build_support import edit_record, use_fixture_dataset
from conftest import copy_dataset
from corpus import BASE_ID, BASE_RECORD, make_mini

ADDED, REMOVED, EDITED = BASE_ID, "2025-09-11-coale-visits-minsk", "2025-11-01-talks-on-large-release"
OLD_TITLE = "US and Belarus discuss the release of more than 100 political prisoners in one deal"
NEW_TITLE = "US and Belarus negotiate the release of more than 100 political prisoners in one deal"
NEW_SHORT = "US and Belarus negotiate the release of more than 100 political prisoners in on…"  # 80 characters in text
CHANGED_TABLES = ["events", "event_types", "event_officials", "releases", "release_categories", "sanctions_changes",
                  "event_links", "quotes"]
# Neither the tester's git configuration (signing, hooks, default branch) nor the system's changes the history.
GIT_ENV = {"GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=Test", "-c", "user.email=test@example.org", *args],
                          capture_output=True, text=True, check=True, env={**os.environ, **GIT_ENV})
    return done.stdout.strip()


def commit(root: Path, tag: str) -> None:
    git(root, "add", "--all")
    git(root, "commit", "--quiet", "--message", tag)
    git(root, "tag", tag)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args))
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


def at(root: Path, revision: str) -> str:
    """How the output names a revision: as given, then the first 10 digits of its commit."""
    return f"{revision} at {git(root, 'rev-parse', revision)[:10]}"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("diff") / "history"
    layout = use_fixture_dataset(copy_dataset(root))
    git(root, "init", "--quiet")
    commit(root, "base")
    shutil.copy(BASE_RECORD, layout.records)
    (layout.records / f"{REMOVED}.yml").unlink()
    edit_record(layout, EDITED, "  count: 100\n", "  count: 120\n  count_basis: Recounted after the talks.\n")
    edit_record(layout, EDITED, f"title: {OLD_TITLE}", f"title: {NEW_TITLE}")
    commit(root, "head")
    return root


@pytest.fixture(scope="module")
def base_to_head(history: Path) -> DatasetDiff:
    return diff_revisions(history, "base", "head")


@pytest.fixture
def work(history: Path, tmp_path: Path) -> Path:
    """A clone of the history whose working tree a test may change (at `head`, with both tags)."""
    root = tmp_path / "work"
    git(tmp_path, "clone", "--quiet", str(history), str(root))
    return root


def test_rows_added_removed_and_changed_by_primary_key(history: Path, base_to_head: DatasetDiff) -> None:
    diff = base_to_head
    tables = {table_diff.table.name: table_diff for table_diff in diff.tables}
    events, releases = tables["events"], tables["releases"]
    assert diff.comparable
    assert diff.base == Side("BASE", "base", git(history, "rev-parse", "base"), ())
    assert list(tables) == CHANGED_TABLES  # people, sources and the rest did not change, so they are left out
    assert [(row["id"], row["release_count"]) for row in events.added] == [(ADDED, 52)]
    assert [row["id"] for row in events.removed] == [REMOVED]
    assert events.changed == (RowChange((EDITED,), {"title": (OLD_TITLE, NEW_TITLE), "release_count": (100, 120),
                                                    "release_min": (100, 120)}),)
    assert releases.changed == (RowChange((EDITED,), {"count": (100, 120), "at_least": (100, 120),
                                                      "count_basis": (None, "Recounted after the talks.")}),)
    assert [row["type"] for row in tables["event_types"].added] == ["release", "visit"]
    assert [(row["event_id"], row["position"]) for row in tables["quotes"].added] == [(ADDED, 0), (ADDED, 1), (ADDED, 2)]


def test_text_output_per_table_then_one_line_per_difference(history: Path) -> None:
    code, output = invoke("diff", "base", "head", "--root", str(history))
    lines = output.splitlines()
    assert code == 0, output
    assert lines[:6] == [
        f"{at(history, 'base')} → {at(history, 'head')}",
        "events: 1 added, 1 changed, 1 removed",
        f"+ {ADDED}  title: John Coale meets Lukashenko in Minsk; 52 prisoners released",
        f"~ {EDITED}  title: US and Belarus discuss the release of more than 100 political prisoners in one … → "
        f"{NEW_SHORT}",
        f"~ {EDITED}  release_count: 100 → 120",
        f"~ {EDITED}  release_min: 100 → 120",
    ]
    assert [line for line in lines if line.startswith(("events:", "releases:", "quotes:"))] == [
        "events: 1 added, 1 changed, 1 removed", "releases: 1 added, 1 changed, 1 removed",
        "quotes: 3 added, 0 changed, 5 removed"]
    assert f"~ {EDITED}  count_basis: (none) → Recounted after the talks." in lines
    assert f"- {REMOVED} / meeting" in lines  # event_types: every column is in the key


def test_json_is_the_library_result_in_full(history: Path, base_to_head: DatasetDiff) -> None:
    code, output = invoke("diff", "base", "head", "--root", str(history), "--format", "json")
    data = json.loads(output)
    assert code == 0
    assert data == base_to_head.to_dict()
    assert data["tables"]["events"]["changed"] == [{"key": {"id": EDITED}, "fields": {
        "title": {"old": OLD_TITLE, "new": NEW_TITLE},  # JSON never shortens a value
        "release_count": {"old": 100, "new": 120}, "release_min": {"old": 100, "new": 120}}}]
    assert data["tables"]["event_types"]["added"] == [{"event_id": ADDED, "type": "release"},
                                                      {"event_id": ADDED, "type": "visit"}]
    assert output == json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def test_same_revision_has_no_changes(history: Path) -> None:
    code, output = invoke("diff", "head", "head", "--root", str(history))
    assert (code, output) == (0, f"{at(history, 'head')} → {at(history, 'head')}\nNo changes to the published tables.\n")


def test_working_tree_is_compared_when_head_is_left_out(work: Path) -> None:
    edit_record(Layout(work), EDITED, f"title: {NEW_TITLE}", "title: US and Belarus talk")
    diff = diff_revisions(work, "head", None)
    assert diff.head == Side("HEAD", None, None, ())
    assert [(d.table.name, d.added, d.removed, d.changed) for d in diff.tables] == [
        ("events", (), (), (RowChange((EDITED,), {"title": (NEW_TITLE, "US and Belarus talk")}),))]


def test_markdown_escapes_markup_in_values(work: Path) -> None:
    payload = "<img src=x onerror=alert(1)> [x](http://evil) talks"
    edit_record(Layout(work), EDITED, f"title: {NEW_TITLE}", f"title: '{payload}'")
    code, output = invoke("diff", "head", "--root", str(work), "--format", "markdown")
    assert code == 0, output
    assert output.splitlines()[:9] == [
        "## Changes to the published tables", "", f"head at {git(work, 'rev-parse', 'head')[:10]} → the working tree", "",
        "| table | added | changed | removed |", "|---|---:|---:|---:|", "| events | 0 | 1 | 0 |", "",
        "<details><summary>events: 0 added, 1 changed, 0 removed</summary>"]
    assert (f"| \\~ | 2025\\-11\\-01\\-talks\\-on\\-large\\-release | title | {NEW_SHORT} | "
            "&lt;img src\\=x onerror\\=alert\\(1\\)&gt; \\[x\\]\\(http\\:\\/\\/evil\\) talks |") in output.splitlines()
    assert "<img" not in output and "](" not in output and "http://" not in output


def test_a_side_that_does_not_validate_is_reported_instead_of_a_diff(work: Path) -> None:
    path = work / "records" / f"{EDITED}.yml"
    lines = path.read_text(encoding="utf-8").splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("title:")) + 1
    edit_record(Layout(work), EDITED, "\ntitle:", "\ntitel:")
    code, output = invoke("diff", "head", "--root", str(work))
    assert (code, output) == (1, f"{at(work, 'head')} → the working tree\n"
                                 "The working tree does not validate (1 problem); no table diff.\n"
                                 f"  records/{EDITED}.yml:{number}:1: [unknown-field] unknown field 'titel' in the file; "
                                 "did you mean 'title'?\n")
    commit(work, "broken")
    code, output = invoke("diff", "broken", "head", "--root", str(work), "--format", "json")
    data = json.loads(output)
    assert code == 1
    assert (data["comparable"], data["base"]["valid"], data["head"]["valid"], data["tables"]) == (False, False, True, {})
    assert [problem["type"] for problem in data["base"]["problems"]] == ["unknown-field"]


def test_a_committed_link_is_reported_not_followed(work: Path) -> None:
    (work / "records" / "2025-12-01-link.yml").symlink_to("/etc/hostname")
    commit(work, "linked")
    diff = diff_revisions(work, "linked", "head")
    assert [(p.file, p.type) for p in diff.base.problems] == [("records/2025-12-01-link.yml", "unsafe-path")]


def test_dataset_in_a_subfolder_of_the_repository(tmp_path: Path) -> None:
    layout = make_mini(copy_dataset(tmp_path / "outer" / "data"))  # the one-record dataset: quick to check
    git(tmp_path / "outer", "init", "--quiet")
    commit(tmp_path / "outer", "base")
    edit_record(layout, BASE_ID, "title: John Coale meets", "title: John Coale visits")
    diff = diff_revisions(layout.root, "base", None)
    assert [(d.table.name, [list(change.fields) for change in d.changed]) for d in diff.tables] == [("events", [["title"]])]


def test_unknown_revision_is_misuse(history: Path) -> None:
    code, output = invoke("diff", "nope", "--root", str(history))
    assert code == 2
    assert output.endswith("\nError: unknown revision 'nope': no branch, tag or commit of that name\n")


def test_a_revision_is_never_read_as_an_option(history: Path) -> None:
    code, output = invoke("diff", "--root", str(history), "--", "--output=x")
    assert code == 2
    assert output.endswith("\nError: unknown revision '--output=x': no branch, tag or commit of that name\n")


def test_outside_a_git_repository_is_misuse(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = copy_dataset(tmp_path / "plain").root.resolve()
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))  # git must not find a repository above tmp_path
    code, output = invoke("diff", "main", "--root", str(root))
    assert code == 2
    assert output.endswith(f"\nError: {root} is not in a git repository; diff compares git revisions\n")


def test_without_git_is_an_error_not_a_traceback(history: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, output = invoke("diff", "base", "--root", str(history))
    assert code == 2
    assert output.endswith("\nError: git is not installed (or not on PATH); diff reads the revisions with it\n")
