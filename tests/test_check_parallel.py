"""Record files checked on every core give exactly what checking them one by one gives: the same results in the
same order, positions read again from the file when a later rule asks for them, and the same problems from the
whole check. A pool that cannot start or breaks leaves the check to do the work itself."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from belarus_releases.check import dataset, workers
from belarus_releases.check.dataset import FileCheck, check_dataset, check_record_files
from belarus_releases.check.files import record_files
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


@pytest.fixture
def spread(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every file is spread over the cores; the list records what each pool returned (None: not used)."""
    if not workers.can_fork():
        pytest.skip("this process cannot fork workers here (another thread runs, or not Linux)")
    returned: list[object] = []
    real = workers.in_workers

    def recording(*args: object) -> object:
        returned.append(real(*args))  # type: ignore[arg-type]
        return returned[-1]

    monkeypatch.setattr(dataset, "MANY_FILES", 0)
    monkeypatch.setattr(dataset, "in_workers", recording)
    yield returned


def _serial(layout: Layout) -> list[FileCheck]:
    names, _ = record_files(layout)
    return [dataset.check_file(layout, name, "record") for name in names]


def _assert_same(fast: list[FileCheck], reference: list[FileCheck]) -> None:
    assert [checked.loaded.file for checked in fast] == [checked.loaded.file for checked in reference]
    for lean, full in zip(fast, reference, strict=True):
        assert (lean.problems, lean.in_shape, lean.loaded.data) == (full.problems, full.in_shape, full.loaded.data)
        assert lean.loaded.problems == full.loaded.problems
        assert not lean.loaded.values and lean.loaded.root is not None
        for path in full.loaded.values:
            assert lean.loaded.position(path) == full.loaded.position(path)
        for path in full.loaded.keys:
            assert lean.loaded.position(path, key=True) == full.loaded.position(path, key=True)


def test_checked_on_every_core_is_checked_alike(crowded: Layout, spread: list[object]) -> None:
    names, _ = record_files(crowded)
    fast = check_record_files(crowded, names)
    assert spread and spread[0] is not None, "the pool was not used"
    _assert_same(fast, _serial(crowded))


def test_a_pool_that_fails_leaves_the_work_to_this_process(repo: Layout, spread: list[object],
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object, **__: object) -> None:
        raise OSError("no memory to fork")

    monkeypatch.setattr(workers, "ProcessPoolExecutor", broken)
    names, _ = record_files(repo)
    fast = check_record_files(repo, names)
    assert spread == [None]
    _assert_same(fast, _serial(repo))


def test_the_whole_check_finds_the_same_with_files_spread(crowded: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    reference = check_dataset(crowded)
    monkeypatch.setattr(dataset, "MANY_FILES", 0)
    spread = check_dataset(crowded)
    assert spread.problems == reference.problems and not spread.ok
    assert [loaded.data for loaded in spread.records] == [loaded.data for loaded in reference.records]
    assert spread.quote_texts == reference.quote_texts


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
        assert workers.in_workers(len, [[1]]) is None
    finally:
        stop.set()
        helper.join()
    monkeypatch.setattr(workers, "cores", lambda: 1)
    assert not workers.can_fork()
