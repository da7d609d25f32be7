"""The fast reader (yaml_plain.py, yaml_reader.load_quick) reads every file exactly as the reference reader does:
the same data and problems, and the same position for every value and key once one is asked for. It takes over
only files with no problem, and hands every other file to the reference, whichever parser is in use."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from belarus_releases.check import yaml_reader
from belarus_releases.check.yaml_reader import MAX_ITEMS, Unlocated, load_bytes, load_quick
from corpus import FIXTURES, MINI, invalid_cases
from test_yaml_events import AT_THE_END

ROOT = Path(__file__).resolve().parent.parent
NAME = "records/x.yml"
# What the fast reader must give up on (the reference reports each), and plain files it must take
UNUSUAL = ["a: &x 1\n", "a: *x\n", "a: !!str 1\n", "<<: {b: 1}\n", "a: 1\na: 2\n", "? [a]\n: 1\n", "a: 1\n---\nb: 2\n",
           "a: NO\n", 'a: "\\u202e"\n', "a: " + "[" * 12 + "]" * 12 + "\n", "- 1\n", "", "a: '   '\n", "a: =x\n",
           "a: Кoул\n", "a: [1, 2\n", "a: \u200b\n"]
PLAIN = ["a: '" + "x" * 20_001 + "'\n",  # (longer than a list may be, but no list)
         "a: 1\n", "a: {b: [1, {c: d}], e: []}\n", "a: " + "[" * 8 + "]" * 8 + "\n", "a: |\n  Коул\nb: >-\n  x\n",
         "a: 'й'\nи\u0306: 2\n", "a: ~\nb: true\nc: ''\n", "--- \na: 1\n...\n",
         "a: 1\n...\n", "a:\n  {b: [c, {d: e}]}\n"]


def assert_read_alike(raw: bytes, name: str = NAME) -> None:
    """load_quick gives what load_bytes gives: data, problems, and each value's and key's position when asked."""
    reference, quick = load_bytes(raw, name), load_quick(raw, name)
    assert (quick.file, quick.data, quick.problems) == (reference.file, reference.data, reference.problems)
    if isinstance(quick, Unlocated):  # (a file with no problem may still go to the reference: CRLF line ends, say)
        assert reference.data is not None and not reference.problems
    for path in reference.values:
        assert quick.position(path) == reference.position(path)
    for path in reference.keys:
        assert quick.position(path, key=True) == reference.position(path, key=True)


@pytest.fixture(params=["libyaml", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "python":
        monkeypatch.setattr(yaml_reader, "Loader", yaml.SafeLoader)
    return str(request.param)


def test_every_fixture_and_real_file_is_read_alike(parser: str) -> None:
    files = [*sorted((ROOT / "records").glob("*.yml")), *sorted((FIXTURES / "valid").glob("*.yml")),
             *sorted(MINI.glob("*/*.yml")), ROOT / "registry" / "people.yml", ROOT / "registry" / "sources.yml"]
    assert len(files) > 10
    for path in files:
        assert_read_alike(path.read_bytes())
    for case in invalid_cases():
        if case.name != "too-deep-5000-brackets" or parser == "libyaml":  # (a tenth of a second in pure Python)
            assert_read_alike(case.raw, case.target)


@pytest.mark.parametrize("text", UNUSUAL + PLAIN + AT_THE_END)
def test_unusual_and_plain_texts_are_read_alike(text: str, parser: str) -> None:
    assert_read_alike(text.encode())


@pytest.mark.parametrize("text", PLAIN)
def test_the_fast_reader_takes_plain_files(text: str) -> None:
    assert isinstance(load_quick(text.encode(), NAME), Unlocated)


def test_the_fast_reader_takes_every_real_record() -> None:
    records = [*sorted((ROOT / "records").glob("*.yml")), *sorted(MINI.glob("records/*.yml"))]
    assert records and all(isinstance(load_quick(path.read_bytes(), NAME), Unlocated) for path in records)


@pytest.mark.parametrize("text", UNUSUAL)
def test_the_reference_reads_what_it_reports(text: str) -> None:
    assert not isinstance(load_quick(text.encode(), NAME), Unlocated)


def test_a_registry_longer_than_the_longest_list_is_read_by_the_fast_reader() -> None:
    registry = "people:\n" + "".join(f"  - id: person-{number}\n    name_en: Person {number}\n" for number in range(900))
    assert len(registry) > MAX_ITEMS
    for path in (ROOT / "registry" / "people.yml", ROOT / "registry" / "sources.yml"):
        assert isinstance(load_quick(path.read_bytes(), NAME), Unlocated)
    assert isinstance(load_quick(registry.encode(), NAME), Unlocated)
    assert_read_alike(registry.encode())


@pytest.mark.parametrize("text", ["a:\n" + "- b\n" * (MAX_ITEMS + 1), "a: [" + "b, " * MAX_ITEMS + "b]\n",
                                  "a: [b,\n" + "  b, b, b, b, b, b, b, b, b, b,\n" * 2001 + "  b]\n",
                                  "a: [\n" + "  {b: c}, {b: c}, {b: c}, {b: c},\n" * 5001 + "  {b: c}]\n"])
def test_a_list_longer_than_the_longest_is_left_to_the_reference(text: str) -> None:
    assert not isinstance(load_quick(text.encode(), NAME), Unlocated)
    assert [problem.type for problem in load_bytes(text.encode(), NAME).problems] == ["too-many-items"]
