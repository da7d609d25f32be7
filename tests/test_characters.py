"""The shortcuts of the text checks give exactly what the rules themselves give: mixed-script words (checked
word by word only when a text might hold one), the one-pass test for forbidden characters, the test for text
without letters or digits, and the quick test that lets plain text skip the typing of YAML scalars."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from belarus_releases.check import characters, scalars
from belarus_releases.check.characters import mixed_script_words, word_by_word
from corpus import BASE_RECORD, invalid_cases

ALL = "".join(map(chr, range(0x110000)))
CP1251 = sorted({bytes([byte]).decode("cp1251", "ignore") for byte in range(256)} - {""})
NEUTRAL = ["1", "_", "2_3"]
SAMPLE = ["a", "Z", "я", "Ё", "і", "ў", "µ", "ª", "5"]


def test_the_mixed_script_shortcut_agrees_on_every_pair_of_its_characters() -> None:
    # Every cp1251 word character beside every other, directly or across characters of no script: every case the
    # shortcut decides, since it only looks at neighbours (other characters end a word).
    letters = [char for char in CP1251 if char.isalnum()]
    for first in letters:
        for second in letters:
            assert mixed_script_words(first + second) == word_by_word(first + second), first + second
        for between in NEUTRAL:
            for second in SAMPLE:
                for text in (first + between + second, second + between + first):
                    assert mixed_script_words(text) == word_by_word(text), text


def test_the_mixed_script_shortcut_agrees_on_real_text_and_the_corpus() -> None:
    texts = [BASE_RECORD.read_text(encoding="utf-8"), *(case.raw.decode("utf-8", "replace") for case in invalid_cases())]
    texts += ["Кoул", "Cοale", "Ｍинск", "µм", "й", "и\u0306", "Лукашенко met Coale", "тест2test", "x_ы", "ĳм", "Ǆа"]
    for text in texts:
        for piece in [text, *text.splitlines()]:
            assert mixed_script_words(piece) == word_by_word(piece), piece


@settings(max_examples=150, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from([*CP1251, "α", "ο", "Ｍ", "µ", "ﬁ", "\u0306", "𝐌", "中"]), max_size=12))
def test_the_mixed_script_shortcut_agrees_on_random_text(text: str) -> None:
    assert mixed_script_words(text) == word_by_word(text)


def test_one_pass_finds_every_forbidden_character() -> None:
    found = set(characters._ANY_FORBIDDEN.findall(ALL))
    for _, pattern in characters._CHARACTER_CLASSES:
        assert {match[0] for match in pattern.findall(ALL + "\r")} <= found


def test_plain_quotes_are_what_the_table_makes() -> None:
    assert all(code < 0x10000 for code in characters.QUOTE_MARKS)
    first_plane = ALL[:0x10000]
    assert characters.plain_quotes(first_plane) == first_plane.translate(characters.QUOTE_MARKS)


def test_alphanumerics_are_what_isalnum_says() -> None:
    assert "".join(characters._ALNUM.findall(ALL)) == "".join(filter(str.isalnum, ALL))


# Scalars: what must be looked at twice

TYPED = [re.compile(r"^(~|null|Null|NULL)?$"), re.compile(r"^-?(0|[1-9][0-9]{0,14})$"),
         *(pattern for pattern, _, _ in scalars._AMBIGUOUS)]


def test_the_patterns_here_are_the_module_s_own() -> None:
    assert (TYPED[0].pattern, TYPED[1].pattern) == (scalars._NULL.pattern, scalars._INT.pattern)


@settings(max_examples=30, deadline=None, database=None)
@given(st.sampled_from(TYPED).flatmap(lambda pattern: st.from_regex(pattern)))
def test_every_text_a_rule_may_read_is_looked_at(text: str) -> None:
    assert scalars.maybe_typed(text), text


def test_every_example_of_each_rule_is_looked_at() -> None:
    examples = ["", "~", "null", "0", "-12", "2025-01-01", "2025-1-1 10:00", "0777", "-0_7", "+0999", "0x1F", "0b101",
                "0o17", "1:20", "-1:20:30.5", "1.10", ".5", "+1.", "1e5", "-.inf", ".NaN", "1234567890123456", "+1_000"]
    for text in examples:
        assert any(pattern.match(text) for pattern in TYPED), text
        assert scalars.maybe_typed(text), text


def test_every_word_a_rule_may_read_is_looked_at() -> None:
    for word in [*scalars._BOOL, "yes", "No", "OFF", "on", "y", "N", "null", "NULL", "~", "", ".inf", "-.INF", ".NaN"]:
        for text in (word, word + "\n"):
            assert scalars.maybe_typed(text), text
    assert not any(scalars.maybe_typed(text) for text in ("Minsk", "release", "nope", "yes sir", "offical", "no\n\n"))
