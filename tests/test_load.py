"""Stage 1, load: values keep the type the contributor meant and the place they were written; hostile bytes
and YAML are refused with one located problem, quickly and in bounded memory, by libyaml and pure Python alike.
"""

from __future__ import annotations

import tracemalloc
import unicodedata
from collections.abc import Iterator

import pytest
import yaml

from belarus_releases.check import yaml_reader
from belarus_releases.check.yaml_reader import MAX_BYTES, MAX_DEPTH, load_bytes
from corpus import BASE_RECORD, FIXTURES

NAME = "records/x.yml"


@pytest.fixture(params=["libyaml", "python"], autouse=True)
def loader(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Every test runs with the C loader (when present) and with the pure-Python one."""
    if request.param == "python":
        monkeypatch.setattr(yaml_reader, "Loader", yaml.SafeLoader)
    elif not hasattr(yaml, "CSafeLoader"):
        pytest.skip("libyaml is not installed")
    yield request.param


def _types(text: str) -> list[str]:
    return [p.type for p in load_bytes(text.encode(), NAME).problems]


def _only(text: str | bytes) -> str:
    raw = text if isinstance(text, bytes) else text.encode()
    problems = load_bytes(raw, NAME).problems
    assert len(problems) == 1, problems
    return problems[0].to_text()


def test_the_base_record_loads_with_no_problems() -> None:
    loaded = load_bytes(BASE_RECORD.read_bytes(), NAME)
    assert loaded.problems == ()
    assert loaded.data["release"]["count"] == 52
    assert loaded.data["date"]["value"] == "2025-09-11"


@pytest.mark.parametrize(("text", "value"), [
    ("a: 52", 52), ("a: -1", -1), ("a: 0", 0), ("a: true", True), ("a: false", False), ("a: null", None),
    ("a: ~", None), ("a:", None), ("a: '2025-09-11'", "2025-09-11"), ("a: 'NO'", "NO"), ('a: "01234"', "01234"),
    ("a: '1:20'", "1:20"), ("a: '1.10'", "1.10"), ("a: Minsk", "Minsk"), ("a: |\n  two\n  lines\n", "two\nlines\n"),
    ("a: >-\n  folded\n  text\n", "folded text"), ("a: 123456789012345", 123456789012345),
])
def test_values_keep_the_type_the_contributor_meant(text: str, value: object) -> None:
    loaded = load_bytes(text.encode(), NAME)
    assert loaded.problems == ()
    assert loaded.data == {"a": value}
    assert type(loaded.data["a"]) is type(value)


@pytest.mark.parametrize(("plain", "meaning"), [
    ("NO", "a true/false value"), ("yes", "a true/false value"), ("on", "a true/false value"), ("Off", "a true/false value"),
    ("01234", "an octal number"), ("089", "a number without its leading zero"), ("0x1F", "a number in another base"),
    ("1:20", "a base-60 number"), ("1.10", "a decimal number"), ("2025-09-11", "a date object"), (".inf", "a special number"),
    ("5e1", "a number"), ("+52", "a number"), ("1_000", "a number"), ("1234567890123456", "a number too long to keep exactly"),
])
def test_yaml_1_1_typing_traps_stay_text_and_are_reported(plain: str, meaning: str) -> None:
    loaded = load_bytes(f"a: {plain}\n".encode(), NAME)
    assert loaded.data == {"a": plain}
    [problem] = loaded.problems
    assert (problem.line, problem.col, problem.type) == (1, 4, "ambiguous-value")
    assert f"`{plain}` is read by other YAML tools as {meaning};" in problem.message
    assert f"'{plain}'" in problem.message


def test_every_value_and_key_has_its_line_and_column() -> None:
    text = "id: x\ndate:\n  value: '2025'\nlist:\n  - a\n  - [b, Мінськ]\n"
    loaded = load_bytes(text.encode(), NAME)
    assert loaded.values[("id",)] == (1, 5)
    assert loaded.values[("date", "value")] == (3, 10)
    assert loaded.keys[("date", "value")] == (3, 3)
    assert loaded.values[("list", 0)] == (5, 5)
    assert loaded.values[("list", 1, 1)] == (6, 9)
    assert loaded.keys[("list",)] == (4, 1)


def test_a_missing_field_points_at_its_parent() -> None:
    loaded = load_bytes(b"a: 1\nb:\n  c: 2\n", NAME)
    assert loaded.position(("b", "missing")) == (3, 3)  # the mapping under b starts at c
    assert loaded.position(("nothing", "here")) == (1, 1)


def test_columns_count_characters_not_bytes() -> None:
    loaded = load_bytes("a: [Мінськ, 😀, x]\n".encode(), NAME)
    assert loaded.values[("a", 2)] == (1, 16)


def test_decomposed_text_is_stored_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Мой")
    assert len(decomposed) == 4
    loaded = load_bytes(f"a: {decomposed}\nb: '{decomposed}'\n".encode(), NAME)
    assert loaded.problems == ()
    assert loaded.data == {"a": "Мой", "b": "Мой"}
    assert all(unicodedata.is_normalized("NFC", value) for value in loaded.data.values())


def test_the_valid_nfd_fixture_is_stored_composed() -> None:
    raw = (FIXTURES / "valid" / "valid-nfd-text.yml").read_bytes()
    assert "\u0306".encode() in raw
    loaded = load_bytes(raw, NAME)
    quote = loaded.data["sources"][0]["quotes"][-1]["text"]
    assert "итоговой" in quote and unicodedata.is_normalized("NFC", quote)


def test_crlf_line_ends_are_fine_and_positions_agree() -> None:
    loaded = load_bytes(b"a: 1\r\nb:\r\n  c: two\r\n", NAME)
    assert loaded.problems == ()
    assert loaded.data == {"a": 1, "b": {"c": "two"}}
    assert loaded.values[("b", "c")] == (3, 6)


# Hostile YAML: one located problem each


@pytest.mark.parametrize(("text", "expected"), [
    ("a: 1\nb: 2\na: 3\n", "3:1: [duplicate-key] key 'a' appears twice in this mapping (first at line 1, column 1); keep one"),
    ("a: &x 1\n", "1:4: [yaml-anchor] anchor &x is not allowed; write the value out in full"),
    ("a: *x\n", "1:4: [yaml-alias] alias *x is not allowed; write the value out in full"),
    ("a:\n  <<: {b: 1}\n", "2:3: [yaml-merge-key] merge keys (<<) are not allowed; write the keys out in full"),
    ("a: !!python/object/apply:os.system [ls]\n",
     "1:4: [yaml-tag] tag !!python/object/apply:os.system is not allowed; remove it, and quote the value if it is text"),
    ("a: !custom x\n", "1:4: [yaml-tag] tag !custom is not allowed; remove it, and quote the value if it is text"),
    ("a: !!binary aGVsbG8=\n", "1:4: [yaml-tag] tag !!binary is not allowed; remove it, and quote the value if it is text"),
    ("!!map {a: 1}\n", "1:1: [yaml-tag] tag !!map is not allowed; remove it, and quote the value if it is text"),
    ("? [a]\n: 1\n", "1:3: [complex-key] a mapping key must be a plain field name; write one here, not a list or mapping"),
    ("a: 1\n---\nb: 2\n", "2:1: [multiple-documents] a second YAML document starts here; one record per file: "
                          "move it to its own file"),
    ("- a\n- b\n", "1:1: [not-a-mapping] the file holds a list, not a mapping of fields; "
                   "write the record as `field: value` lines"),
    ("just text\n", "1:1: [not-a-mapping] the file holds a single value, not a mapping of fields; "
                     "write the record as `field: value` lines"),
])
def test_hostile_yaml_is_refused_with_one_located_problem(text: str, expected: str) -> None:
    assert _only(text) == f"{NAME}:{expected}"


# Our own words for the usual slips, the same whichever parser build read the file.
@pytest.mark.parametrize(("text", "where", "message"), [
    ("a:\n\tb: 1\n", "2:1", "a tab here: indent with spaces, not tabs"),
    ("a: b\n\tc: 1\n", "2:1", "a tab here: indent with spaces, not tabs"),
    ('a: "unclosed\nb: 2\n', "1:4", "this quoted text is never closed; add the closing quote mark"),
    ("a: 'it's'\n", "1:8", "this line does not line up with the fields above it; check its indentation, "
                            "and quote a value that contains quote marks"),
    ("a: [1, 2\nb: 3\n", "2:2", "a [list] or {mapping} is not closed here (it opened at line 1, column 4); "
                                "separate its items with commas and close it"),
    ("a: b: c\n", "1:5", "a colon followed by a space inside unquoted text; put the whole value in quotes"),
    ("a: @x\n", "1:4", "a value cannot start with '@' unless it is quoted; put the whole value in quotes"),
    ('a: "\\q"\n', "1:6", "a backslash here starts an escape YAML does not know; write \\\\ for a backslash, "
                          "or use single quotes"),
    ("a: 1\nplain words\nb: 2\n", "3:1", "this line is not a `field: value` line; add the colon, or indent it if it "
                                        "continues the value above, or put a multi-line value in quotes"),
])
def test_syntax_errors_are_located_and_explained_in_our_words(text: str, where: str, message: str) -> None:
    assert _only(text) == f"{NAME}:{where}: [yaml-syntax] {message}"


def test_a_rare_syntax_error_keeps_the_parsers_words() -> None:
    # The one place a third party's wording is asserted: the fallback message quotes PyYAML's pure-Python parser
    # (pinned by the lock) because no sentence of ours fits every rare case.
    assert _only("a: ]\n") == (f"{NAME}:1:4: [yaml-syntax] the YAML cannot be read here (while parsing a block node; "
                                "expected the node content, but found ']'); check the quotes, brackets and indentation")


@pytest.mark.parametrize("raw", [b"", b"   \n\n", b"# only a comment\n", b"---\n", b"~\n"])
def test_an_empty_file_is_refused(raw: bytes) -> None:
    assert "[empty-file]" in _only(raw)


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 50, 5_000, 100_000])
def test_deep_nesting_is_refused_at_the_first_level_too_deep(depth: int) -> None:
    text = "a: " + "[" * depth + "]" * depth + "\n"
    assert _only(text) == (f"{NAME}:1:{3 + MAX_DEPTH}: [too-deep] values are nested more than {MAX_DEPTH} levels deep, "
                           "which no record needs; check the indentation and brackets")


def test_nesting_as_deep_as_allowed_is_fine() -> None:
    depth = MAX_DEPTH - 1
    assert load_bytes(("a: " + "[" * depth + "]" * depth).encode(), NAME).problems == ()


BOMB = "\n".join(
    [f"l0: &l0 [{', '.join(['lol'] * 9)}]"]
    + [f"l{n}: &l{n} [{', '.join([f'*l{n - 1}'] * 9)}]" for n in range(1, 9)]
) + "\n"


def test_an_alias_bomb_is_refused_at_its_first_anchor_in_bounded_memory() -> None:
    assert len(BOMB) < 600
    tracemalloc.start()
    try:
        loaded = load_bytes(BOMB.encode(), NAME)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert [p.to_text() for p in loaded.problems] == [
        f"{NAME}:1:5: [yaml-anchor] anchor &l0 is not allowed; write the value out in full"]
    assert loaded.data is None
    assert peak < 1_000_000, f"loading a {len(BOMB)}-byte bomb peaked at {peak:,} bytes"


def test_a_file_over_the_size_cap_is_refused_without_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yaml_reader, "Loader", None)  # parsing would fail loudly
    raw = b"a: " + b"x" * MAX_BYTES
    assert _only(raw) == (f"{NAME}:1:1: [file-too-large] the file is {len(raw):,} bytes; the limit is {MAX_BYTES:,} bytes: "
                          "split it or shorten the quotes")


# Hostile bytes and characters


@pytest.mark.parametrize(("raw", "expected"), [
    ("a: Минск\n".encode("cp1251"), "1:4: [not-utf8] byte 0xcc is not UTF-8 (is the file in cp1251 or another code page?); "
                                    "save it as UTF-8"),
    ("a: b\nc: Минск\n".encode("cp1251"), "2:4: [not-utf8] byte 0xcc is not UTF-8 (is the file in cp1251 or another code page?); "
                                          "save it as UTF-8"),
    ("a: b\n".encode("utf-16"), "1:1: [not-utf8] the file is UTF-16; save it as UTF-8"),
    ("a: b\n".encode("utf-16-le"), "1:1: [not-utf8] the file is UTF-16; save it as UTF-8"),
    ("a: b\n".encode("utf-16-be"), "1:1: [not-utf8] the file is UTF-16; save it as UTF-8"),
    (b"\xef\xbb\xbfa: b\n", "1:1: [byte-order-mark] the file starts with a UTF-8 byte-order mark (U+FEFF); save it without one"),
    (b"a: b\x07c\n", "1:5: [control-character] U+0007 here; delete it"),
    (b"a: b\n# a comment \x1b\n", "2:13: [control-character] U+001B here; delete it"),
    (b"a: b\x00c\n", "1:5: [control-character] U+0000 here; delete it"),
    ("a: b\u0085c\n".encode(), "1:5: [control-character] U+0085 here; delete it"),
    ("a: b\u2028c\n".encode(), "1:5: [control-character] U+2028 LINE SEPARATOR here; delete it"),
    ("a: b\u2029c\n".encode(), "1:5: [control-character] U+2029 PARAGRAPH SEPARATOR here; delete it"),
    (b"a: 1\rb: 2\rc: 3\r", "1:5: [control-character] U+000D CARRIAGE RETURN without a line feed here; "
                            "save the file with LF line ends"),
    (b"a: 'x\ry'\n", "1:6: [control-character] U+000D CARRIAGE RETURN without a line feed here; "
                     "save the file with LF line ends"),
])
def test_hostile_bytes_are_refused_with_one_located_problem(raw: bytes, expected: str) -> None:
    assert _only(raw) == f"{NAME}:{expected}"


BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
INVISIBLE = "\u200b\u200c\u200d\u2060\u00ad\ufeff"


@pytest.mark.parametrize("char", list(BIDI), ids=lambda c: f"U+{ord(c):04X}")
def test_bidi_controls_are_refused_anywhere(char: str) -> None:
    for text, where in ((f"a: Мін{char}ськ\n", "1:7"), (f"a: '{char}x'\n", "1:5"), (f"a: x # {char}\n", "1:8"),
                        (f"a{char}: x\n", "1:2"), (f"a: |\n  x\n  y{char}\n", "3:4")):
        line = _only(text)
        assert line.startswith(f"{NAME}:{where}: [bidi-character] U+{ord(char):04X} "), line
        assert line.endswith(" here; delete it")


@pytest.mark.parametrize("char", list(INVISIBLE), ids=lambda c: f"U+{ord(c):04X}")
def test_invisible_characters_are_refused_anywhere_in_a_value(char: str) -> None:
    line = _only(f"a: Мін{char}ськ\n")
    assert line.startswith(f"{NAME}:1:7: [invisible-character] U+{ord(char):04X} ")


@pytest.mark.parametrize(("escape", "type_"), [
    (r"\u202E", "bidi-character"), (r"\u2066", "bidi-character"), (r"\u200B", "invisible-character"),
    (r"\xAD", "invisible-character"), (r"\uFEFF", "invisible-character"), (r"\x07", "control-character"),
    (r"\0", "control-character"), (r"\e", "control-character"), (r"\L", "control-character"), (r"\N", "control-character"),
])
def test_forbidden_characters_written_as_escapes_are_refused(escape: str, type_: str) -> None:
    line = _only(f'a: b\nc: "Мін{escape}ськ"\n')
    assert line.startswith(f"{NAME}:2:4: [{type_}] U+")
    assert line.endswith(", written as an escape in this text; delete the escape")


def test_a_mixed_script_word_is_located_at_its_odd_letter() -> None:
    assert _only("a: Джон Кoул\n") == (
        f"{NAME}:1:10: [mixed-script] 'Кoул' is Cyrillic but has the Latin letter(s) 'o' (U+006F), "
        "which look the same; retype it in one alphabet")
    assert _only("a: >-\n  Встреча с\n  John Cоale\n").startswith(
        f"{NAME}:3:9: [mixed-script] 'Cоale' is Latin but has the Cyrillic letter(s) 'о' (U+043E)")


# Unicode's mixed-script rule (UTS #39) for every script, not only Latin and Cyrillic; and look-alike letter forms.
@pytest.mark.parametrize(("value", "where", "message"), [
    ("John Cοale", "1:10", "'Cοale' is Latin but has the Greek letter(s) 'ο' (U+03BF), which look the same"),
    ("Mօnsk", "1:5", "'Mօnsk' is Latin but has the Armenian letter(s) 'օ' (U+0585), which look the same"),
    ("Mінськ", "1:4", "'Mінськ' is Cyrillic but has the Latin letter(s) 'M' (U+004D), which look the same"),
    ("Ｍinsk", "1:4", "'Ｍinsk' has 'Ｍ' (U+FF2D), a look-alike form of an ordinary letter"),
    ("𝐌insk", "1:4", "'𝐌insk' has '𝐌' (U+1D40C), a look-alike form of an ordinary letter"),
    ("Мінсｋ", "1:8", "'Мінсｋ' is Cyrillic but has the Latin letter(s) 'ｋ' (U+FF4B), which look the same"),
])
def test_words_mixing_any_two_scripts_or_look_alike_forms_are_refused(value: str, where: str, message: str) -> None:
    assert _only(f"a: {value}\n").startswith(f"{NAME}:{where}: [mixed-script] {message}")


def test_digits_punctuation_and_stress_marks_mix_with_any_script() -> None:
    text = "a: COVID-19, п’ять, Лукаше\u0301нко, №5, 2²\n"
    assert load_bytes(text.encode(), NAME).problems == ()


def test_a_mixed_script_word_written_with_escapes_is_located_at_its_own_value() -> None:
    problems = load_bytes('a: "Кo\\u0443л"\nb: Кoул\n'.encode(), NAME).problems
    assert [(p.line, p.col, p.type) for p in problems] == [(1, 4, "mixed-script"), (2, 5, "mixed-script")]


def test_a_word_in_one_script_is_fine() -> None:
    assert load_bytes("a: Джон Коул met John Coale in Мінськ, 2025\n".encode(), NAME).problems == ()


@pytest.mark.parametrize(("text", "start"), [
    ("a: =HYPERLINK(1)", "'='"), ("a: '+1 more'", "'+'"), ("a: '-x'", "'-'"), ("a: '@SUM(1)'", "'@'"),
    ('a: "\\tx"', "a tab"), ('a: "\\r\\nx"', "a carriage return"), ('a: "\tx"', "a tab"),
])
def test_text_a_spreadsheet_would_run_as_a_formula_is_refused(text: str, start: str) -> None:
    assert _only(text) == (f"{NAME}:1:4: [formula-like] text starting with {start} runs as a formula in spreadsheets; "
                           "reword it so it starts with a letter or digit")


@pytest.mark.parametrize("text", ["a: -1", "a: '-1'", "a: '+52'", "a: '-1.5'", "a:\n  - item", "a: x - y = z"])
def test_numbers_and_lists_are_not_formulas(text: str) -> None:
    assert "formula-like" not in _types(text)
