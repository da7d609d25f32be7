"""The README's overview of releases: made by the build from the site's canned query (build/current/overview.md),
escaped so that no record's text becomes Markdown, and copied into README.md by `make readme`.

No test compares the committed README table with the records: a contributor who adds a record must not fail
CI for a generated file they did not touch. `make readme` refreshes it on the main branch."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from markdown_it import MarkdownIt  # through frictionless's dependency on rich; a CommonMark parser with GFM tables

from belarus_releases.check.metadata import load_metadata
from belarus_releases.export.maintain import refresh_readme
from belarus_releases.export.overview import (
    END,
    START,
    OverviewError,
    canned_query,
    markdown_table,
    markdown_text,
    overview_table,
    releases_digest,
    rows_read_as_before,
    with_overview,
)
from belarus_releases.layout import Layout
from build_support import copy_repository


def section(readme: str) -> str:
    return readme.split(START, 1)[1].split(END, 1)[0]


def test_the_committed_readme_has_the_markers_and_a_table(real: Layout) -> None:
    readme = real.readme.read_text(encoding="utf-8")
    assert readme.count(START) == 1 and readme.count(END) == 1 and readme.index(START) < readme.index(END)
    assert section(readme).strip().startswith("| sort_date | kind | id |")


def test_make_readme_copies_the_built_overview_between_the_markers(site: Layout, tmp_path: Path) -> None:
    built_real = copy_repository(site, tmp_path / "repo", with_build=True)  # this test writes README.md
    before = built_real.readme.read_text(encoding="utf-8")
    marked = before.replace(section(before), "\n| stale |\n")
    built_real.readme.write_text(marked, encoding="utf-8")
    refresh_readme(built_real)
    after = built_real.readme.read_text(encoding="utf-8")
    assert section(after) == "\n" + built_real.overview.read_text(encoding="utf-8")
    assert after.split(START)[0] == before.split(START)[0] and after.split(END)[1] == before.split(END)[1]
    assert [path.name for path in built_real.root.iterdir() if path.name.endswith(".tmp")] == []


def _overview(repo: Layout) -> tuple[list[str], list[dict[str, str]]]:
    """The built overview table (what `make readme` copies into README.md) as header and rows of cells."""
    lines = repo.overview.read_text(encoding="utf-8").strip().splitlines()
    header = [cell.strip() for cell in lines[0].strip("|").split("|")]
    rows = [dict(zip(header, (_unescaped(cell.strip()) for cell in line.strip("|").split(" | ")), strict=True))
            for line in lines[2:]]
    return header, rows


def _unescaped(cell: str) -> str:
    """A cell's text as a reader sees it: the overview escapes Markdown punctuation with backslashes."""
    return re.sub(r"\\(.)", r"\1", cell)


CATEGORIES = ("political-prisoners", "criminal-charges", "foreign-nationals", "unknown")


def test_overview_rows_follow_the_canned_query_and_running_totals_per_category(site: Layout) -> None:
    repo = site
    metadata, _ = load_metadata(repo)
    assert metadata is not None
    with sqlite3.connect(repo.database) as db:
        released = db.execute("select event_id from releases where status = 'released' and scope = 'single' "
                              "order by sort_date, event_id").fetchall()
        parts = db.execute("select event_id, category, at_least from release_categories").fetchall()
    header, rows = _overview(repo)
    recorded = [row for row in rows if row["kind"] == "recorded release"]
    assert [row["id"] for row in recorded] == [event_id for event_id, in released]
    running = dict.fromkeys(CATEGORIES, 0)
    for row in recorded:  # each running total is the sum of the parts recorded so far, category by category
        for event_id, category, at_least in parts:
            if event_id == row["id"]:
                running[category] += at_least or 0
        for category in CATEGORIES:
            assert int(row[f"recorded_total_{category.replace('-', '_')}"]) == running[category], (row["id"], category)
        assert int(row["recorded_total_all"]) == sum(running.values())
    assert overview_table(repo.database, canned_query(metadata)).strip() == repo.overview.read_text(encoding="utf-8").strip()
    assert header[-1] == "recorded_total_all"


def test_aggregates_stand_beside_the_totals_and_are_never_added(site: Layout) -> None:
    repo = site
    with sqlite3.connect(repo.database) as db:
        aggregates = {event_id for event_id, in db.execute(
            "select event_id from releases where status = 'released' and scope = 'aggregate'")}
        held = {event_id for event_id, in db.execute("select event_id from prisoners_held")}
    assert aggregates and held, "the real dataset has aggregate releases and counts of prisoners held"
    _, rows = _overview(repo)
    beside = [row for row in rows if row["kind"] != "recorded release"]
    assert {row["id"] for row in beside if row["kind"].startswith("aggregate")} == aggregates
    assert {row["id"] for row in beside if row["kind"].startswith("prisoners held")} == held
    for row in beside:
        assert row["kind"].endswith("(not added)")
        assert all(row[column] == "" for column in row if column.startswith("recorded_total_") or column == "at_least")
    dates = [row["sort_date"] for row in rows]
    assert dates == sorted(dates), "the statements stand at their date, between the releases"


PAYLOADS = [
    "![x](http://host/img)",
    "[link](http://host/)",
    "<img src=http://host/img>",
    '<script>alert("x")</script>',
    "**bold** _emphasis_ `code` ~~struck~~",
    "a | b",
    "line\nbreak",
    "\\![x](http://host/img)",
    "[ref]: http://host/",
    "http://host/img.png",
    "&lt;img src=x&gt;",
]


@pytest.mark.parametrize("payload", PAYLOADS)
def test_cells_are_inert_markdown(tmp_path: Path, payload: str) -> None:
    """A title that is Markdown or HTML shows as its own text, in one cell: no image, link, tag or emphasis."""
    database = tmp_path / "t.db"
    with sqlite3.connect(database) as db:
        db.execute("create table t (title text, n integer)")
        db.execute("insert into t values (?, 1)", (payload,))
    rendered = MarkdownIt("commonmark").enable("table").render(overview_table(database, "select title, n from t"))
    for tag in ("<img", "<a ", "<script", "<strong", "<em", "<code", "<s>"):
        assert tag not in rendered, rendered
    cells = rendered.split("<tbody>")[1].split("<td>")[1:]
    assert len(cells) == 2
    assert cells[0].split("</td>")[0] == html.escape(" ".join(payload.split()))  # the words, as text


def test_plain_words_stay_readable_in_the_readme_source() -> None:
    assert markdown_text("2025-09-11 release_count 52, U.S.") == "2025-09-11 release_count 52, U.S."


def test_readme_without_markers_is_refused() -> None:
    with pytest.raises(OverviewError):
        with_overview("# no markers here\n", "| a |\n")


def test_make_readme_without_a_build_says_so(repo: Layout, capsys: pytest.CaptureFixture[str]) -> None:
    from belarus_releases.export.maintain import main

    before = repo.readme.read_bytes()
    assert main(["readme", str(repo.root)]) == 1
    assert capsys.readouterr().err == "Error: build/current/overview.md does not exist; run `make build` first\n"
    assert main(["no-such-task"]) == 2
    assert repo.readme.read_bytes() == before


def test_each_cell_is_its_own_text_when_values_repeat() -> None:
    """Cells are escaped once per distinct value: equal values of another type (1, 1.0, True) keep their own text."""
    row = (1, 1.0, True, "1", None, "a|b", 1, "a|b")
    table = markdown_table((["a"] * len(row), [row, row]))
    expected = "| " + " | ".join(markdown_text(value) for value in row) + " |"
    assert table.splitlines()[2:] == [expected, expected]
    assert expected == r"| 1 | 1.0 | True | 1 |  | a\|b | 1 | a\|b |"


def test_the_releases_digest_tells_apart_any_two_results_that_differ() -> None:
    """Equal values of another type, the same values in other rows or columns, and texts that hold what would
    separate them give other digests; the same result, passed as any sequence of rows, the same one."""
    rows = [(1, "a"), (2, "b\nc")]
    digest = releases_digest((["n", "t"], rows))
    assert releases_digest((["n", "t"], iter(list(rows)))) == digest
    others = [
        (["n", "t"], [(1, "a"), (2, "b\nc"), (3, None)]),
        (["n", "t"], [(True, "a"), (2, "b\nc")]),
        (["n", "t"], [(1.0, "a"), (2, "b\nc")]),
        (["n", "t"], [(1, "a"), (2, "b"), ("c",)]),
        (["n", "t"], [(1, "a", 2), ("b\nc",)]),
        (["n", "t"], [(2, "b\nc"), (1, "a")]),
        (["t", "n"], rows),
        (["n", "t"], []),
    ]
    assert len({digest, *(releases_digest(other) for other in others)}) == len(others) + 1


EDITS = {  # what an edit to one record changed in the database, and in which table
    "a summary (not read by the query)": ("events", "UPDATE events SET summary = 'Changed.' WHERE id = :id", True),
    "a title": ("events", "UPDATE events SET title = 'Changed.' WHERE id = :id", False),
    "a release's count": ("releases", "UPDATE releases SET at_least = at_least + 1 WHERE event_id = :id", False),
    "a category gone": ("release_categories", "DELETE FROM release_categories WHERE rowid = "
                        "(SELECT max(rowid) FROM release_categories WHERE event_id = :id)", False),
}


@pytest.mark.parametrize("edit", EDITS, ids=list(EDITS))
def test_the_releases_query_reads_as_before_only_while_every_column_it_reads_is(site: Layout, tmp_path: Path,
                                                                                edit: str) -> None:
    """Then it would give the previous release's rows, and the build need not run it (the columns it reads are
    those SQLite's authorizer names while it compiles the query)."""
    metadata, _ = load_metadata(site)
    assert metadata is not None
    sql = canned_query(metadata)
    previous = site.database
    with closing(sqlite3.connect(previous)) as db:
        record = db.execute("SELECT event_id FROM release_categories ORDER BY rowid LIMIT 1").fetchone()[0]
    dropped = tmp_path / "scratch.db"
    with closing(sqlite3.connect(dropped)) as db, db:
        db.execute("CREATE TABLE dropped (id TEXT PRIMARY KEY)")
        db.execute("INSERT INTO dropped VALUES (?)", (record,))
    table, change, same = EDITS[edit]
    database = Path(shutil.copy(previous, tmp_path / "new.db"))
    with closing(sqlite3.connect(database)) as db, db:
        assert db.execute(change, {"id": record}).rowcount == 1
    assert rows_read_as_before(database, previous, dropped, sql, {table}) is same
    assert rows_read_as_before(previous, previous, dropped, sql, {table})  # nothing changed
    assert rows_read_as_before(previous, previous, dropped, "SELECT upper(title), count(*) FROM events", {table})
    for other in ("SELECT count(*) FROM sqlite_master", "SELECT rowid FROM events_fts WHERE events_fts MATCH 'x'",
                  "SELECT id, random() FROM events", "SELECT id FROM events WHERE sort_date < date('now')"):
        assert not rows_read_as_before(previous, previous, dropped, other, {table})  # rows that depend on more
