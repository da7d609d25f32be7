"""Record files checked on every core give exactly what checking them one by one gives: the same results in the
same order, positions read again from the file when a later rule asks for them, and the same problems from the
whole check. A pool that cannot start or breaks leaves the check to do the work itself."""

from __future__ import annotations

import multiprocessing
import pickle
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from belarus_releases.check import dataset, workers
from belarus_releases.check.dataset import FileCheck, check_dataset, check_record_files
from belarus_releases.check.files import record_files
from belarus_releases.check.per_file import Compact, restore
from belarus_releases.layout import Layout
from corpus import FIXTURES, invalid_cases


@pytest.fixture
def crowded(repo: Layout) -> Layout:
    """The real dataset, with every hostile case and every valid variant as one more record file (but the one
    that takes the pure-Python parser a tenth of a second, and has nothing to locate)."""
    for case in invalid_cases():
        if case.name != "too-deep-5000-brackets":
            (repo.records / f"{case.name}.yml").write_bytes(case.raw)
    for path in sorted((FIXTURES / "valid").glob("valid-*.yml")):
        (repo.records / path.name).write_bytes(path.read_bytes())
    return repo


def in_a_fresh_process(test: Callable[[Path], None], root: Path) -> None:
    """Run `test` in a newly spawned interpreter, where no other thread runs, so it may fork workers: a test
    runner's worker (xdist) runs threads of its own, and the pool is never forked there. Failures come back."""
    with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as fresh:
        fresh.submit(test, root).result()


def recording_pools(module: ModuleType = dataset, threshold: str = "MANY_FILES") -> list[object]:
    """Every pool `module` starts from now on, whatever the number of items (its `threshold` set to 0); the list
    records what each returned (None: not used)."""
    assert workers.can_fork(), "a fresh process on Linux with two cores forks"
    returned: list[object] = []
    real = workers._pooled

    def recording(*args: Any) -> Iterator[object]:
        try:
            results = list(real(*args))
        except workers._NoPool:
            returned.append(None)
            raise
        returned.append(results)
        yield from results

    setattr(module, threshold, 0)
    workers._pooled = recording  # type: ignore[assignment]
    return returned


def _serial(layout: Layout) -> list[FileCheck]:
    names, _ = record_files(layout)
    return [dataset.check_file(layout, name, "record") for name in names]


def _assert_same(layout: Layout, compact: list[Compact], reference: list[FileCheck]) -> None:
    fast = [restore(checked, layout.root) for checked in compact]
    for restored in fast:
        assert restored.loaded == pickle.loads(pickle.dumps(restored.loaded))
    assert [checked.loaded.file for checked in fast] == [checked.loaded.file for checked in reference]
    for lean, full in zip(fast, reference, strict=True):
        assert (lean.problems, lean.in_shape, lean.loaded.data) == (full.problems, full.in_shape, full.loaded.data)
        assert lean.loaded.problems == full.loaded.problems
        assert not lean.loaded.values and lean.loaded.root is not None
        for path in full.loaded.values:
            assert lean.loaded.position(path) == full.loaded.position(path)
        for path in full.loaded.keys:
            assert lean.loaded.position(path, key=True) == full.loaded.position(path, key=True)


def _spread_alike(root: Path) -> None:
    layout = Layout(root)
    reference = check_dataset(layout)
    serial = _serial(layout)
    pools = recording_pools()
    names, _ = record_files(layout)
    _assert_same(layout, list(check_record_files(layout, names)), serial)
    assert pools and pools[0] is not None, "the pool was not used"
    spread = check_dataset(layout)
    assert spread.problems == reference.problems and not spread.ok
    assert [loaded.data for loaded in spread.records] == [loaded.data for loaded in reference.records]
    assert spread.quote_texts == reference.quote_texts
    for _ in ("cold", "warm"):  # the cache, written from the workers' results and read back, changes nothing
        assert check_dataset(layout, cache=True) == reference


def test_checked_on_every_core_is_checked_alike(crowded: Layout) -> None:
    in_a_fresh_process(_spread_alike, crowded.root)


def _failing_pool(root: Path) -> None:
    layout = Layout(root)
    pools = recording_pools()

    def broken(*_: object, **__: object) -> None:
        raise OSError("no memory to fork")

    workers.ProcessPoolExecutor = broken  # type: ignore[assignment,misc]
    names, _ = record_files(layout)
    fast = list(check_record_files(layout, names))
    assert pools == [None]
    _assert_same(layout, fast, _serial(layout))


def test_a_pool_that_fails_leaves_the_work_to_this_process(repo: Layout) -> None:
    in_a_fresh_process(_failing_pool, repo.root)


def _doubled(chunk: list[int]) -> list[int]:
    return [2 * item for item in chunk]


def _meanwhile_once(_: Path) -> None:
    children: list[int] = []

    def meanwhile() -> None:
        children.append(len(multiprocessing.active_children()))

    assert workers.in_workers(_doubled, [1, 2, 3], meanwhile) == [2, 4, 6]
    assert len(children) == 1 and children[0] > 0, "it ran before the workers were started"
    with pytest.raises(ZeroDivisionError):  # its own error is its caller's, not a pool's failure to be hidden
        workers.in_workers(_doubled, [1], lambda: print(1 / 0))

    def broken(*_: object, **__: object) -> None:
        raise OSError("no memory to fork")

    workers.ProcessPoolExecutor = broken  # type: ignore[assignment,misc]
    children.clear()
    assert workers.in_workers(_doubled, [1, 2, 3], meanwhile) is None
    assert children == [0]


def _streamed(_: Path) -> None:
    """Each result is given as soon as its chunk is done, and a pool that fails midway leaves the rest to this process."""
    items = list(range(1000))
    given = workers.each_in_workers(_doubled, items)
    assert next(given) == 0 and len(multiprocessing.active_children()) > 0  # the workers still at work
    assert list(given) == [2 * item for item in items[1:]]
    real = workers._pooled

    def failing_midway(*args: Any) -> Iterator[object]:
        pooled = real(*args)
        yield next(pooled)
        pooled.close()
        raise workers._NoPool

    workers._pooled = failing_midway  # type: ignore[assignment]
    assert list(workers.each_in_workers(_doubled, items)) == [2 * item for item in items]


def test_results_come_as_their_chunk_is_done_and_the_rest_here_if_the_pool_fails(tmp_path: Path) -> None:
    in_a_fresh_process(_streamed, tmp_path)


def test_meanwhile_runs_once_while_the_workers_work_or_before_there_are_none(tmp_path: Path) -> None:
    in_a_fresh_process(_meanwhile_once, tmp_path)


def test_chunks_keep_every_item_in_order() -> None:
    for count in (1, 2, 7, 200, 1001):
        items = list(range(count))
        for workers_count in (1, 2, 3):
            cut = workers.chunks(items, workers_count)
            assert [item for chunk in cut for item in chunk] == items
            assert len(cut) <= workers_count * workers.CHUNKS_PER_WORKER


def test_a_process_running_other_threads_is_not_forked(monkeypatch: pytest.MonkeyPatch) -> None:
    stop = threading.Event()
    helper = threading.Thread(target=stop.wait)
    helper.start()
    try:
        assert not workers.can_fork()
        ran: list[str] = []
        assert workers.in_workers(len, [[1]], lambda: ran.append("meanwhile")) is None
        assert ran == ["meanwhile"]
    finally:
        stop.set()
        helper.join()
    monkeypatch.setattr(workers, "cores", lambda: 1)
    assert not workers.can_fork()
