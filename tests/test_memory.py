"""memory.py: the collector kept off the plain data a stage makes, and back on after it."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from typing import Any

import pytest

from belarus_releases import memory
from belarus_releases.check import dataset
from belarus_releases.check.dataset import check_dataset
from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.export.package_check import PackageCheck, fast_verdict
from belarus_releases.layout import Layout
from belarus_releases.memory import lasting_objects, no_garbage_collection, setting_aside
from belarus_releases.problems import Problem
from belarus_releases.tables import TABLES


def collectable(value: object) -> bool:
    """Whether the collector would walk `value` (gc.get_objects leaves out what gc.freeze put aside)."""
    return any(found is value for found in gc.get_objects())


@pytest.fixture(autouse=True)
def collector_as_found(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The collector as it was after each test; and the few objects a test makes count as many."""
    monkeypatch.setattr(memory, "MANY_OBJECTS", 0)
    enabled = gc.isenabled()
    yield
    gc.unfreeze()
    (gc.enable if enabled else gc.disable)()


def test_the_collector_is_off_in_the_block_and_on_again_after_it() -> None:
    gc.enable()
    with no_garbage_collection():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_that_was_off_stays_off() -> None:
    gc.disable()
    with no_garbage_collection():
        pass
    assert not gc.isenabled()
    with lasting_objects():
        pass
    assert not gc.isenabled()


def test_what_a_lasting_block_makes_is_never_walked_by_the_collector() -> None:
    gc.enable()
    with lasting_objects():
        assert not gc.isenabled()
        made = [[number] for number in range(1000)]
    assert gc.isenabled() and not collectable(made) and not collectable(made[0])
    with no_garbage_collection():  # this one only pauses the collector
        plain = [[1]]
    assert collectable(plain)


def test_a_few_objects_are_left_to_the_collector(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "MANY_OBJECTS", 1000)
    gc.collect()  # the count starts from nothing
    with lasting_objects():
        few = [[number] for number in range(10)]
    assert collectable(few)
    with lasting_objects():
        many = [[number] for number in range(1000)]
    assert not collectable(many)


def test_a_lasting_block_that_fails_sets_nothing_aside() -> None:
    gc.enable()
    made: list[list[int]] = []
    with pytest.raises(ValueError), lasting_objects():
        made.append([1])
        raise ValueError
    assert gc.isenabled() and collectable(made)


def test_the_check_sets_its_records_aside_until_the_next_check_starts(real: Layout,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    aside: list[bool] = []
    real_rule = dataset.official_problems

    def look_then_check(records: list[Loaded], *arguments: Any) -> list[Problem]:
        aside.append(not collectable(records[0].data))
        return real_rule(records, *arguments)

    monkeypatch.setattr(dataset, "official_problems", look_then_check)
    first = check_dataset(real)
    assert first.ok and aside == [True] and not collectable(first.records[0].data) and gc.isenabled()
    given_back: list[bool] = []
    real_listing = dataset.record_files

    def look_then_list(layout: Layout) -> Any:  # the first thing the next check does
        given_back.append(collectable(first.records[0].data))
        return real_listing(layout)

    monkeypatch.setattr(dataset, "record_files", look_then_list)
    check_dataset(real)
    assert given_back == [True] and aside == [True, True]


def test_a_block_inside_another_gives_back_nothing() -> None:
    with setting_aside():
        with lasting_objects():
            made = [[1]]
        with setting_aside():  # a check inside a build
            pass
        assert not collectable(made)
    with setting_aside():
        assert collectable(made)


def test_what_was_set_aside_since_by_someone_else_is_left_to_them() -> None:
    with setting_aside(), lasting_objects():
        made = [[1]]
    theirs = [[number] for number in range(100)]
    gc.freeze()
    with setting_aside():
        assert not collectable(made) and not collectable(theirs)


def test_the_package_is_checked_with_the_collector_off(fixture_built: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    gc.enable()
    collecting: list[bool] = []
    real_table = PackageCheck.table

    def look_then_check(check: PackageCheck, name: str) -> None:
        collecting.append(gc.isenabled())
        real_table(check, name)

    monkeypatch.setattr(PackageCheck, "table", look_then_check)
    current = fixture_built.current
    assert fast_verdict(current / "datapackage.json", current) is not None
    assert len(collecting) == len(TABLES) and not any(collecting) and gc.isenabled()
