"""The process's memory, for every stage: Python's cycle collector kept off the large plain data a stage makes
(records' data, tables' rows, a package's keys), and free pages given back to the system.

That data is millions of objects (lists, dicts and tuples of text and numbers) that hold no reference cycle, so
the collector can never free any of it; reference counting frees it. Left on, the collector walks it as it is
made and then in every full collection: at 100,000 records, 5.5 s of a cold build's process (measured with
gc.callbacks), a tenth of the build.
"""

from __future__ import annotations

import ctypes
import functools
import gc
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def no_garbage_collection() -> Iterator[None]:
    """The collector off for the block (on again after it, unless it was off before): for a block that makes many
    objects holding no cycle, which it drops before it ends or which the caller keeps from the collector."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def lasting_objects() -> Iterator[None]:
    """For a block that makes many objects holding no cycle that live on after it (the records' data, the tables'
    rows): the collector off while they are made, and, when there are MANY_OBJECTS, never walking them after
    (gc.freeze: it sets aside every object the process holds then, until the next `setting_aside` block starts).
    Without it, the first collections after the block would walk every one of them, and each full one again."""
    with no_garbage_collection():
        yield
        if gc.get_count()[0] >= MANY_OBJECTS:  # (with the collector off, the count is of what the block made)
            gc.freeze()


MANY_OBJECTS = 100_000
"""From this many objects made on, lasting_objects sets them aside. Fewer (a small dataset's check) are left to
the collector: setting aside every object of the process and giving them back at the next check costs more than
walking a few (the test suite took a fifth longer when every check did it)."""
_open = 0  # setting_aside blocks open now
_left_frozen = 0  # gc.get_freeze_count() when the last outermost one ended, if it left objects aside; else 0


@contextmanager
def setting_aside() -> Iterator[None]:
    """A check or a build, whose lasting_objects blocks set objects aside. They stay aside after it, since its
    caller goes on with what it returned (validate reports it; a build writes it): given back then, the next full
    collection would walk all of it (0.1 s at 10,000 records). They are given back to the collector (gc.unfreeze)
    when the next such block starts, so that a process that checks again and again (a test run, `diff`) never
    keeps a cycle uncollected for good; unless something else set objects aside since, which are its own."""
    global _open, _left_frozen
    if _open == 0 and _left_frozen and gc.get_freeze_count() <= _left_frozen:  # (what was set aside may have died)
        gc.unfreeze()
    _open += 1
    try:
        yield
    finally:
        _open -= 1
        if _open == 0:
            _left_frozen = gc.get_freeze_count()


def give_back_free_memory() -> None:
    """Return the C heap's free pages to the system (glibc's malloc_trim; nothing elsewhere). Bytes and large objects
    freed by a stage (100,000 records' marshalled data, once decoded) leave holes that Python's small-object
    allocator never fills, so the process would go on holding them: a fifth of a check's memory, for 3 ms."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc
        return None
