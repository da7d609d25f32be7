"""The rules across records that spread their per-record work over the cores (quotes looked for in their sources,
officials named by their quotes) find exactly what they find one record at a time: the same problems, at the
same places, and the same quotes as the sources write them; their workers are given plain data, and copy little
of the records the check holds."""

from __future__ import annotations

import gc
from pathlib import Path

from belarus_releases.check import dataset, workers
from belarus_releases.check.dataset import CheckResult, check_dataset
from belarus_releases.check.yaml_reader import load_file
from belarus_releases.layout import Layout
from test_check_parallel import in_a_fresh_process, recording_pools


def _break_quotes(layout: Layout) -> None:
    """Two records with a quote that is not in its source, and one whose official its quotes do not name."""
    names = sorted(path.name for path in layout.records.glob("*.yml"))
    for name in names[:2]:
        path = layout.records / name
        quote = load_file(layout.root, f"records/{name}").data["sources"][0]["quotes"][0]["text"]
        word = max(quote.split(), key=len)
        text = path.read_text(encoding="utf-8")
        path.write_text(text.replace(word, word[:2] + "ыы" + word[2:], 1), encoding="utf-8")
    for name in names[2:]:
        path = layout.records / name
        text = path.read_text(encoding="utf-8")
        if "  as_written: " in text:  # an unnamed official: its words are not in any quote once changed
            path.write_text(text.replace("  as_written: ", "  as_written: Zzyzx ", 1), encoding="utf-8")
            return


def _found(result: CheckResult) -> tuple[object, ...]:
    return result.problems, result.quote_texts


def _rules_alike(root: Path) -> None:
    layout = Layout(root)
    able = workers.can_fork
    workers.can_fork = lambda: False  # type: ignore[assignment]
    reference = check_dataset(layout)
    workers.can_fork = able  # type: ignore[assignment]
    pools = recording_pools(workers, "MANY_RECORDS")  # each rule's pool, however few the records
    spread = check_dataset(layout)
    assert len(pools) == 2 and all(result is not None for result in pools), "both rules used the pool"
    types = {problem.type for problem in reference.problems}
    assert {"quote-not-found", "official-not-named"} <= types, types
    assert _found(spread) == _found(reference)


def test_rules_checked_on_every_core_find_the_same(repo: Layout) -> None:
    _break_quotes(repo)
    in_a_fresh_process(_rules_alike, repo.root)


def _copied_kib() -> int:
    """How much of the memory this forked process shares with its parent it has copied by now (and its own)."""
    with open("/proc/self/smaps_rollup", encoding="ascii") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Private_Dirty:"))


_held: list[dict[str, str]] = []


def _read_held(numbers: list[int]) -> list[tuple[str, int]]:
    """What a pool's worker reading this process's objects gives: each item's text, and what it has copied (for
    the last item of the chunk: reading /proc is slow)."""
    return [(_held[number]["text"], _copied_kib() if number == numbers[-1] else 0) for number in numbers]


def _workers_copy_little(_: Path) -> None:
    workers.cores = lambda: 2  # each worker's share of the records, so of what it copies, as on two cores
    _held.extend({"file": f"{number % 97}.txt", "text": f"quote number {number}"} for number in range(200_000))
    gc.freeze()  # as the check leaves its records: no collection copies them either
    given = workers.on_every_core(lambda item: (item[1], _copied_kib() if item[1].endswith("000") else 0), _held,
                                  lambda entry: (entry["file"], entry["text"]))  # new tuples of the parent's strings
    assert [text for text, _ in given] == [entry["text"] for entry in _held]
    shared = workers.in_workers(_read_held, range(len(_held)))  # the same work reading the parent's objects
    assert shared is not None and [text for text, _ in shared] == [text for text, _ in given]
    copied, copied_when_shared = max(kib for _, kib in given), max(kib for _, kib in shared)
    assert copied * 3 < copied_when_shared, (copied, copied_when_shared)


def test_the_rules_workers_copy_little_of_the_records_this_process_holds(tmp_path: Path) -> None:
    # A worker that read the records themselves would copy every page of them it touched (reference counts are
    # written to): at 100,000 records that was 150 MiB of the build's peak.
    in_a_fresh_process(_workers_copy_little, tmp_path)


def _not_plain_data_is_done_here(_: Path) -> None:
    pools = recording_pools(workers, "MANY_RECORDS")
    items = [{1, 2}, {3}]  # plain data: marshal writes sets
    assert workers.on_every_core(len, items, set) == [2, 1] and pools and pools[-1] is not None
    assert workers.on_every_core(repr, [1, 2], lambda _: object())[0].startswith("<object")
    assert len(pools) == 1, "no pool for items that cannot be marshalled"


def test_items_that_are_not_plain_data_are_worked_on_here(tmp_path: Path) -> None:
    in_a_fresh_process(_not_plain_data_is_done_here, tmp_path)


def _every_pool_forks(root: Path) -> None:
    """The per-file pool gives its results as they come: it must be over (its threads gone) before the rules ask
    whether they may fork, or they would quietly work on one core."""
    answers: list[bool] = []
    able = workers.can_fork

    def asked() -> bool:
        answers.append(able())
        return answers[-1]

    dataset.MANY_FILES = 0
    workers.MANY_RECORDS = 0
    workers.can_fork = asked  # type: ignore[assignment]
    assert check_dataset(Layout(root)).problems
    # the record files; the quotes and the officials, each asked before their items are packed, then by the pool
    assert answers == [True] * 5


def test_the_rules_fork_after_the_record_files_pool_is_over(repo: Layout) -> None:
    _break_quotes(repo)
    in_a_fresh_process(_every_pool_forks, repo.root)
