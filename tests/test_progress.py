"""progress.py: a bar on a terminal's stderr, once a build has taken a second; nothing for programs, CI or quick builds."""

from __future__ import annotations

import io
import re
from collections.abc import Mapping

import pytest

from belarus_releases.progress import DELAY, progress_bar

STEPS = ("check", "events", "quotes", "package")


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drawn(fmt: str = "text", environ: Mapping[str, str] | None = None, stream: io.StringIO | None = None,
          seconds: float = 2 * DELAY) -> str:
    """What a build of STEPS taking `seconds` draws."""
    stream = Terminal() if stream is None else stream
    times = iter([0.0] + [seconds * (number + 1) / len(STEPS) for number in range(len(STEPS))])
    with progress_bar(STEPS, fmt, stream=stream, environ=environ or {"TERM": "xterm"}, clock=lambda: next(times)) as step:
        for name in STEPS:
            step(name)
    return stream.getvalue()


def test_a_long_build_on_a_terminal_shows_a_bar_that_ends_full() -> None:
    shown = drawn()
    assert "Building" in shown and "package" in shown and "100%" in shown.splitlines()[-1]


@pytest.mark.parametrize(("fmt", "environ", "stream", "seconds"), [
    ("json", None, None, 9.0),  # read by a program
    ("github", None, None, 9.0),
    ("text", {"CI": "true"}, None, 9.0),  # a CI log keeps every redraw
    ("text", {"TERM": "dumb"}, None, 9.0),
    ("text", None, io.StringIO(), 9.0),  # not a terminal
    ("text", None, None, DELAY / 2),  # quick: no bar at all
])
def test_no_bar(fmt: str, environ: Mapping[str, str] | None, stream: io.StringIO | None, seconds: float) -> None:
    assert drawn(fmt, environ, stream, seconds) == ""


def test_no_colour_with_no_color() -> None:
    assert re.search(r"\x1b\[[0-9;]*m", drawn(environ={"TERM": "xterm", "NO_COLOR": "1"})) is None  # no SGR code
