"""The line reader (yaml_lines.py) gives the data and text values of libyaml's loop (yaml_plain.events_data)
whenever it answers, whichever parser that loop reads with, and it answers for the layout records are written in:
every real record, registry and generated record. (That the fast readers together read every file as the
reference does is tests/test_yaml_plain.py's, on every example of tests/test_properties.py too.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from belarus_releases.check.yaml_lines import Unusual, lines_data
from belarus_releases.check.yaml_plain import events_data
from belarus_releases.check.yaml_reader import Loader
from benchmarks.generate import generate
from corpus import FIXTURES, MINI, invalid_cases
from test_yaml_plain import PLAIN, UNUSUAL, assert_read_alike

ROOT = Path(__file__).resolve().parent.parent


def answered_alike(text: str) -> bool:
    """Whether the line reader answers for `text`; when it does, its answer is the loop's under both parsers."""
    try:
        answer = lines_data(text)
    except Unusual:
        return False
    assert answer == events_data(text, Loader) == events_data(text, yaml.SafeLoader)
    return True


# Texts in the layout, each taken, with the constructs that are easy to get wrong
TAKEN = {
    "a: 1\nb: x y\nc: 'it''s'\nd: \"q\"\n": {"a": 1, "b": "x y", "c": "it's", "d": "q"},
    "a:\n- x\n- 'y'\nb: 2\n": {"a": ["x", "y"], "b": 2},  # a list in its key's column
    "a:\n  - b: 1\n    c:\n      - d\n  - e\n": {"a": [{"b": 1, "c": ["d"]}, "e"]},
    "a: >-\n  one\n  two #3\n\n\nb: [x, y.z, w v]\n": {"a": "one two #3", "b": ["x", "y.z", "w v"]},
    "# comment\na: [x,\n    w]\nb: [{c: d, e: f}, {c: g}]\n": {"a": ["x", "w"], "b": [{"c": "d", "e": "f"}, {"c": "g"}]},
    "a: b:c#d, [e] {f}\nb: true\nc: ~\nd: []\n": {"a": "b:c#d, [e] {f}", "b": True, "c": None, "d": []},
    "a:   spaced   \n   \nb: é\n": {"a": "spaced", "b": "é"},
}
# Texts whose meaning depends on more than one line or than the layout: each left to the loop (and its answer
# there is the reference's, whatever it is)
LEFT = [
    "a: b\n  c\n",  # plain text going on
    "a: b\n  # c\nd: e\n",  # an indented comment
    "a: b # c\n",  # a comment after a value
    "a: >-\n  b\n\n  c\n",  # a blank line inside folded text
    "a: >-\n  b\n   c\n",  # a more indented line in folded text
    "a: >-\n  b \n",  # a space at a folded line's end
    "a: >-\n  b\n   \nc: d\n", "a: >-\n  b\n\n   \n", "a:\n- >-\n  x\n   \n- z\n",  # spaces past the indentation
    "k" * 1025 + ": 1\n", "a: [{" + "k" * 1025 + ": b}]\n",  # keys longer than libyaml takes
    "a: >\n  b\n", "a: |-\n  b\n", "a: >-\nb: c\n",  # other block text; an empty one
    "a:\nb: 1\n", "a:\n", "a:\n- \n", "a:\n-\n", "a:\n- # c\n", "a: 1\n  b: 2\n", "- a\n", "a: [b,\nc]\n", "a: [b\n",
    "a: ['b']\n",
    "a: 1\n\tb: 2\n", "a: 'b\n  c'\n", "a: \"b\\tc\"\n", "'a': 1\n", "a b: 1\n", "a:b\n", "a: x:\n",
    "a:\n  b: 1\n c: 2\n", "a:\n  - b\n  c: 1\n", "a:\n  -  b: 1\n", "a: 1\na: 2\n", "a: NO\n", "a: 2025-01-01\n",
    "---\na: 1\n", "a: 1\n...\n", "a: &x 1\n", "a: *x\n", "a: !t 1\n", "a: {b: c}\n", "a: [{b: c}, d]\n",
    "a: [{b: c, b: d}]\n", "a: [NO]\n", "a: [b, , c]\n", "a: \ufeffb\n", "a: b\u2028c\n", "a: \ufffe\n",
    "a:\n" + "".join(f"{'  ' * depth}b{depth}:\n" for depth in range(1, 10)) + "  " * 10 + "c: 1\n",
]


@pytest.mark.parametrize("text", list(TAKEN))
def test_the_layout_is_taken_with_the_loops_data(text: str) -> None:
    assert answered_alike(text)
    assert lines_data(text)[0] == TAKEN[text]


@pytest.mark.parametrize("text", LEFT)
def test_what_depends_on_more_than_a_line_is_left_to_the_loop(text: str) -> None:
    assert not answered_alike(text)
    assert_read_alike(text.encode())


@pytest.mark.parametrize("text", UNUSUAL + PLAIN)
def test_the_fast_readers_cases_are_answered_alike_or_left(text: str) -> None:
    answered_alike(text)


def test_every_real_file_is_taken_and_every_fixture_answered_alike_or_left() -> None:
    taken = [*sorted((ROOT / "records").glob("*.yml")), *sorted(MINI.glob("records/*.yml")),
             ROOT / "registry" / "people.yml", ROOT / "registry" / "sources.yml"]
    assert len(taken) > 20 and all(answered_alike(path.read_text(encoding="utf-8")) for path in taken)
    for path in sorted(FIXTURES.glob("**/*.yml")):
        answered_alike(path.read_bytes().decode("utf-8", "replace"))
    for case in invalid_cases():
        answered_alike(case.raw.decode("utf-8", "replace"))


def test_every_generated_record_is_taken(tmp_path: Path) -> None:
    layout = generate(tmp_path / "repo", 300, seed=3)
    records = sorted((layout.root / "records").glob("*.yml"))
    assert len(records) == 300 and all(answered_alike(path.read_text(encoding="utf-8")) for path in records)


def test_the_texts_are_the_values_in_order_and_the_keys_are_not() -> None:
    assert lines_data("a: x\nb: [v, 1, z]\nc:\n  - d: w\n") == ({"a": "x", "b": ["v", 1, "z"], "c": [{"d": "w"}]},
                                                                  ["x", "v", "z", "w"])


TAKEN_SCALARS = st.sampled_from(["x", "x y", "'a''b'", '"q"', "1", "~", "true", "é", "a#b", "b:c", "[a, b]", "[]",
                                 "[{c: d, e: f}]", "[a b, c.d]", "[a,\n  b]", ">-\n  a\n  b", ">-\n  a\n\n"])
SCALARS = st.one_of(TAKEN_SCALARS, st.sampled_from([
    "'x", '"a\\tb"', "0", "NO", "e\u0301", "a: b", "a #b", "b:", "[NO]", ">-\n  a\n\n  b", ">-\n  a\n   b", "&x y", "x "]))
KEYS = st.sampled_from(["a", "b", "c", "id", "a-b", "y"])


@st.composite
def layout(draw: st.DrawFn, column: int = 0, depth: int = 0, scalars: st.SearchStrategy[str] | None = None) -> list[str]:
    """The lines of a random mapping in the layout records are written in, at `column`: with values only of those
    the line reader takes, or (half the time) some of the others too."""
    scalars = draw(st.sampled_from([TAKEN_SCALARS, SCALARS])) if scalars is None else scalars
    lines: list[str] = []
    for key in draw(st.lists(KEYS, min_size=1, max_size=4, unique=True)):
        kind = draw(st.sampled_from(["scalar", "scalar", "mapping", "list", "list in its key's column"]))
        if kind == "scalar" or depth >= 3:
            lines.append(f"{' ' * column}{key}: " + draw(scalars).replace("\n", "\n" + " " * column))
        elif kind == "mapping":
            lines += [f"{' ' * column}{key}:", *draw(layout(column + 2, depth + 1, scalars))]
        else:
            dash = column if kind != "list" else column + 2
            lines.append(f"{' ' * column}{key}:")
            for _ in range(draw(st.integers(1, 3))):
                if draw(st.booleans()):
                    lines.append(f"{' ' * dash}- " + draw(scalars).replace("\n", "\n" + " " * dash))
                else:
                    first, *rest = draw(layout(dash + 2, depth + 1, scalars))
                    lines += [f"{' ' * dash}- {first.lstrip(' ')}", *rest]
    return lines


EDITS = st.sampled_from(["", " ", "  ", "     ", "#c", "  #c", " #c", ":", " x: y", "\t", "- x", "- ", "-", "---", "'", "[", "]",
                         "x"])


@settings(max_examples=300, deadline=None, database=None, derandomize=True)
@given(layout(), st.lists(st.tuples(st.integers(0, 40), st.sampled_from(["indent", "outdent", "insert", "append"]),
                                    EDITS), max_size=2))
def test_layouts_and_near_misses_are_answered_alike_or_left(lines: list[str],
                                                            edits: list[tuple[int, str, str]]) -> None:
    lines = "\n".join(lines).split("\n")
    for at, how, piece in edits:
        at %= len(lines)
        if how == "indent":
            lines[at] = " " + lines[at]
        elif how == "outdent":
            lines[at] = lines[at].removeprefix(" ")
        elif how == "insert":
            lines.insert(at, piece)
        else:
            lines[at] += piece
    text = "\n".join(lines) + "\n"
    if answered_alike(text):
        assert_read_alike(text.encode())
