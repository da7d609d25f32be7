"""The rules across records that spread their per-record work over the cores (quotes looked for in their sources,
officials named by their quotes) find exactly what they find one record at a time: the same problems, at the
same places, and the same quotes as the sources write them."""

from __future__ import annotations

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


def _more_than_most(root: Path) -> None:
    pools = recording_pools(workers, "MANY_RECORDS")
    workers.MOST_RECORDS = 2  # the test repository's records are "too many": no rule forks its decoded records
    spread = check_dataset(Layout(root))
    assert pools == []
    workers.MOST_RECORDS = 10**9
    assert _found(check_dataset(Layout(root))) == _found(spread)
    assert len(pools) == 2


def test_rules_across_very_many_records_do_their_work_here(repo: Layout) -> None:
    _break_quotes(repo)
    in_a_fresh_process(_more_than_most, repo.root)


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
    assert answers == [True, True, True]  # the record files, the quotes, the officials


def test_the_rules_fork_after_the_record_files_pool_is_over(repo: Layout) -> None:
    _break_quotes(repo)
    in_a_fresh_process(_every_pool_forks, repo.root)
