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
    rows): the collector off while they are made, and never walking them after (gc.freeze, which also leaves
    alone whatever else the process holds then: module state, and any cycle not yet collected, a few bytes).
    Without it, the first collections after the block would walk every one of them, and each full one again."""
    with no_garbage_collection():
        yield
        gc.freeze()


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
