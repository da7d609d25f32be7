"""A progress bar for long builds: on a terminal only, on stderr, and only once a build has taken a second.

Never on stdout, never for --format json or github (read by programs), never in CI logs (CI set) or on a
terminal that cannot redraw a line (TERM=dumb), and without colour when NO_COLOR is set (https://no-color.org).
A build that ends within DELAY seconds shows nothing at all.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any, TextIO

import click

DELAY = 1.0  # seconds before the bar appears


def wanted(fmt: str, stream: TextIO, environ: Mapping[str, str]) -> bool:
    """Whether a bar may be drawn on `stream` for output in `fmt`."""
    return (fmt == "text" and stream.isatty() and not environ.get("CI")
            and environ.get("TERM", "") != "dumb")


@contextmanager
def progress_bar(steps: Sequence[str], fmt: str, *, stream: TextIO | None = None,
                 environ: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> Iterator[Callable[[str], None]]:
    """A function to tell of each step as it starts; it draws a bar of `steps` once DELAY seconds have passed."""
    stream = stream or sys.stderr
    environ = os.environ if environ is None else environ
    if not wanted(fmt, stream, environ):
        yield lambda _: None
        return
    started = clock()
    bar: Any = None

    def step(name: str) -> None:
        nonlocal bar
        if bar is None and clock() - started >= DELAY:
            bar = click.progressbar(length=len(steps), label="Building", file=stream, show_eta=False,
                                    item_show_func=lambda item: item, color=False if environ.get("NO_COLOR") else None)
            bar.__enter__()
        if bar is not None and name in steps:
            bar.update(steps.index(name) - bar.pos, name)  # the steps before this one are done

    try:
        yield step
    finally:
        if bar is not None:
            bar.update(len(steps) - bar.pos, "done")
            bar.__exit__(None, None, None)
