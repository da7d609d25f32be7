"""Per-file work spread over the machine's cores, in order, or not at all.

Processes rather than threads, since the work is Python code. They are forked (Linux only): a forked worker starts
at once with everything imported and every schema compiled. Forking a process that runs other threads can
deadlock a worker, so a process with other threads (a server, a test runner's helper) is not forked. Whenever
a pool cannot be used or fails, the work is done in this process (by the caller, told so by None, or by
each_in_workers itself): results never depend on the path taken.
"""

from __future__ import annotations

import gc
import marshal
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
P = TypeVar("P")

CHUNKS_PER_WORKER = 16  # enough that the last chunk leaves the other cores idle briefly; each result still one message


def cores() -> int:
    """How many cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def can_fork() -> bool:
    return sys.platform.startswith("linux") and threading.active_count() == 1 and cores() > 1


def chunks(items: Sequence[T], workers: int) -> list[list[T]]:
    """`items` cut into consecutive chunks, CHUNKS_PER_WORKER for each worker (fewer for few items)."""
    size = max(1, -(-len(items) // (workers * CHUNKS_PER_WORKER)))
    return [list(items[start:start + size]) for start in range(0, len(items), size)]


class _NoPool(Exception):
    """No pool can be used here, or the pool failed: the caller does the work itself."""


def in_workers(work: Callable[[list[T]], list[R]], items: Sequence[T],
               meanwhile: Callable[[], None] = lambda: None) -> list[R] | None:
    """`work` done on `items` chunk by chunk in forked processes, the results joined in the order of `items`;
    None when no pool can be used here, or the pool failed (the caller then does the work itself). `meanwhile` is
    run here once in any case: while the workers work (this process would only wait), or before None is returned."""
    try:
        return list(_pooled(work, items, meanwhile))
    except _NoPool:
        return None


def each_in_workers(work: Callable[[list[T]], list[R]], items: Sequence[T],
                    meanwhile: Callable[[], None] = lambda: None) -> Iterator[R]:
    """What `work` gives for `items`, in their order, each as soon as its chunk is done: by forked workers, or here
    from the first item they did not give when no pool can be used or it failed. `meanwhile`: as in_workers's."""
    given = 0
    try:
        for result in _pooled(work, items, meanwhile):
            given += 1
            yield result
    except _NoPool:
        yield from work(list(items[given:]))


def _pooled(work: Callable[[list[T]], list[R]], items: Sequence[T], meanwhile: Callable[[], None]) -> Iterator[R]:
    if not can_fork():
        meanwhile()
        raise _NoPool
    workers = min(cores(), len(items))
    try:
        # gc.freeze in each worker: the collector then never walks what the worker inherited, which would copy
        # every page of the parent's heap that holds an object (each one's header is written to)
        pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=gc.freeze)
    except Exception:  # no memory to fork
        meanwhile()
        raise _NoPool from None
    try:
        try:
            pending = pool.map(work, chunks(items, workers))  # forked and started now
        except Exception:
            pending = None
        meanwhile()  # outside the handlers: its errors are its own, not the pool's
        if pending is None:
            raise _NoPool
        try:
            for chunk in pending:
                yield from chunk
        except Exception:  # a worker killed, a result that cannot be pickled
            raise _NoPool from None
    finally:  # at the end, or at an error or a consumer that stops early: the chunks not started never are
        pool.shutdown(cancel_futures=True)


_shared: tuple[Callable[[Any], Any], list[bytes]] | None = None
MANY_RECORDS = 200  # from this many items on, a rule across records spreads its per-record work (on_every_core)


def on_every_core(work: Callable[[P], R], items: Sequence[T], plain: Callable[[T], P]) -> list[R]:
    """`[work(plain(item)) for item in items]`, from MANY_RECORDS items on chunk by chunk in forked processes; here
    for fewer items, or when no pool can be used (see in_workers), or when what `plain` gives is not plain data.

    The workers inherit `work` and what it refers to (source texts, the registries), but are given what `plain`
    makes of each item, marshalled, one bytes object for each chunk (made a chunk at a time, so that this process
    never holds more than one chunk of it as objects). So `plain` must give data that marshal gives back as it was
    (tuples, lists, dicts, text, numbers; not a bytearray, which comes back as bytes). A worker that read this
    process's own objects instead (the decoded records) would write to each one's reference count, and so copy
    every page it touched of them: measured at 100,000 records, the pools then took nothing off the check and
    raised the build's peak memory by 150 MiB."""
    global _shared
    packed = _packed(items, plain) if len(items) >= MANY_RECORDS and can_fork() else None
    if packed is not None:
        _shared = (work, packed)
        try:
            spread = in_workers(_unpacked_work, range(len(packed)))
        finally:
            _shared = None
        if spread is not None:
            return [result for chunk in spread for result in chunk]
    return [work(plain(item)) for item in items]


def _packed(items: Sequence[T], plain: Callable[[T], Any]) -> list[bytes] | None:
    """What `plain` makes of the items, a marshalled chunk for each, or None when it is not plain data."""
    packed = []
    for chunk in chunks(items, cores()):
        made = [plain(item) for item in chunk]
        try:
            packed.append(marshal.dumps(made))
        except ValueError:
            return None
    return packed


def _unpacked_work(numbers: list[int]) -> list[list[Any]]:
    assert _shared is not None, "set by on_every_core before the pool forks"
    work, packed = _shared
    return [[work(item) for item in marshal.loads(packed[number])] for number in numbers]
