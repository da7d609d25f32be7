"""The check's cache (check/cache.py) makes checking faster, never different; and the rules across files stay cheap.

Every check with the cache is compared with one without it, on the whole CheckResult (problems, records' data,
registries, quote texts); which files the cache spares from being read again is asserted too (never a timing)."""

from __future__ import annotations

import marshal
import os
import pickle
import random
import re
import shutil
import time
import unicodedata
from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from belarus_releases.check import cache as cache_module
from belarus_releases.check import cache_files as cache_files_module
from belarus_releases.check import dataset as check_module
from belarus_releases.check.cache_files import CACHE_FILE, CHANGES_FILE, checker_key, read_entries
from belarus_releases.check.characters import QUOTE_MARKS
from belarus_releases.check.crossref import crossref_problems
from belarus_releases.check.dataset import CheckResult, check_dataset
from belarus_releases.check.officials import names_any
from belarus_releases.check.per_file import Undecoded
from belarus_releases.check.sources import SourceText
from belarus_releases.check.yaml_reader import NO_POSITIONS, Loaded
from belarus_releases.cli import cli
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem
from belarus_releases.record import cited_files, data_references, references
from build_support import use_fixture_dataset
from conftest import copy_dataset
from corpus import BASE_TARGET, make_mini

SMITH = "records/2025-02-12-smith-visits-minsk.yml"
NEGOTIATES = "records/2025-11-01-us-negotiates-release-of-over-100.yml"
THREE_RELEASED = "records/2025-02-12-smith-meets-lukashenko-minsk-three-released.yml"
VISIT = "records/2025-09-11-coale-smith-visit-minsk-52-released.yml"


@pytest.fixture
def dataset(tmp_path: Path) -> Layout:
    return use_fixture_dataset(copy_dataset(tmp_path / "repo"))


@pytest.fixture
def mini(tmp_path: Path) -> Layout:
    return make_mini(copy_dataset(tmp_path / "mini"))


@pytest.fixture
def checked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The names each call of check_record_files was given: the files the check read and validated anew."""
    calls: list[list[str]] = []
    real = check_module.check_record_files

    def spy(layout: Layout, names: list[str], *rest: Any) -> Any:
        calls.append(list(names))
        return real(layout, names, *rest)

    monkeypatch.setattr(check_module, "check_record_files", spy)
    return calls


@pytest.fixture
def walked(monkeypatch: pytest.MonkeyPatch) -> list[list[str]]:
    """The records each run of the rule on officials was given: those the quote and official rules walked."""
    calls: list[list[str]] = []
    real = check_module.official_problems

    def spy(records: list[Loaded], *rest: Any) -> Any:
        calls.append([loaded.file for loaded in records])
        return real(records, *rest)

    monkeypatch.setattr(check_module, "official_problems", spy)
    return calls


def same_as_without(layout: Layout, checked: list[list[str]],
                    reference: CheckResult | None = None) -> tuple[CheckResult, list[str]]:
    """The check with the cache, asserted equal to the check without it; and the files it read anew."""
    reference = reference or check_dataset(layout)
    checked.clear()
    cached = check_dataset(layout, cache=True)
    assert cached == reference
    assert [problem.to_text() for problem in cached.problems] == [problem.to_text() for problem in reference.problems]
    return cached, [name for call in checked for name in call]


def cache_files(layout: Layout) -> list[Path]:
    return sorted(layout.cache.glob("check*.marshal"))


def edit(layout: Layout, relative: str, old: str, new: str) -> None:
    path = layout.root / relative
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_cold_warm_and_after_each_kind_of_change_the_cache_changes_nothing(dataset: Layout,
                                                                           checked: list[list[str]]) -> None:
    records = sorted(dataset.relative(path) for path in dataset.records.glob("*.yml"))
    reference = check_dataset(dataset)
    result, anew = same_as_without(dataset, checked, reference)
    assert result.ok and anew == records and cache_files(dataset)
    assert same_as_without(dataset, checked, reference)[1] == []  # warm: nothing read again

    edit(dataset, SMITH, "Крістофер Сміт", "Крістофер Смит")  # a typo in a quote: a problem in the changed file
    result, anew = same_as_without(dataset, checked)
    assert anew == [SMITH] and [p.type for p in result.problems] == ["quote-not-found"]

    # A registry: unknown people in records that did not change, located by reading them again; a name form that
    # no source has.
    edit(dataset, "registry/people.yml", "- id: christopher-smith", "- id: chris-smith")
    edit(dataset, "registry/people.yml", "uk: Крістофер Сміт}", "uk: Крістофер Смітт}")
    result, anew = same_as_without(dataset, checked)
    assert anew == [] and {p.type for p in result.problems} == {"quote-not-found", "unknown-person", "unused-entry",
                                                                "variant-not-found"}
    edit(dataset, "registry/people.yml", "- id: chris-smith", "- id: christopher-smith")
    edit(dataset, "registry/people.yml", "uk: Крістофер Смітт}", "uk: Крістофер Сміт}")

    # A source: quotes of unchanged records are looked for again in its new text.
    edit(dataset, "sources/003_9b2d8587e965d613.txt", "заступник помічника", "заступник помiчника")
    result, anew = same_as_without(dataset, checked)
    assert anew == [] and "quote-not-found" in {p.type for p in result.problems}

    # A schema: every record is checked anew. In a copy, whose schema no validator of this process has read yet
    # (schema_validator keeps one for each path).
    other = Layout(Path(shutil.copytree(dataset.root, dataset.root.with_name("other"))))
    edit(other, "schema/record.schema.json", '"maxLength": 80', '"maxLength": 20')
    result, anew = same_as_without(other, checked)
    assert anew == records and "schema" in {p.type for p in result.problems}


def test_after_one_change_only_that_records_data_is_decoded(dataset: Layout) -> None:
    """The rules across records read each record's references, which the cache keeps beside its data: after one
    change, the check decodes the changed record's data and no other."""
    check_dataset(dataset, cache=True)
    edit(dataset, SMITH, "title: US Deputy Assistant", "title: The US Deputy Assistant")
    result = check_dataset(dataset, cache=True)
    assert result.ok and [loaded.file for loaded in result.records if "data" in vars(loaded)] == [SMITH]
    assert result == check_dataset(dataset)  # (which decodes every record: the same data)


def test_the_cache_is_the_same_whether_it_kept_the_marshalled_data_or_marshalled_it_again(
        dataset: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """Few records: the cache keeps their data as the per-file check marshalled it; many: it marshals it again when
    it saves. The entries are the same."""
    def entries() -> Any:
        return read_entries(dataset.cache / CACHE_FILE, checker_key(dataset))["records"]

    check_dataset(dataset, cache=True)
    kept = entries()
    shutil.rmtree(dataset.cache)
    monkeypatch.setattr(check_module, "KEEP_BYTES_UP_TO", 0)
    check_dataset(dataset, cache=True)
    assert entries() == kept and len(kept) == len(list(dataset.records.glob("*.yml"))) + 2  # and the registries


def test_a_record_from_the_cache_is_the_loaded_record_it_stands_for(tmp_path: Path) -> None:
    """Its data is decoded once, when first read (the bytes then let go); it compares, copies and pickles as the
    Loaded with that data would, and a copy with other data has that data's references."""
    data = {"id": "2025-01-01-a", "sources": [{"file": "a.txt", "quotes": []}]}
    refs = data_references(data)
    stored = Undecoded.of("records/a.yml", marshal.dumps(data), refs, (), tmp_path)
    plain = Loaded("records/a.yml", data, NO_POSITIONS, NO_POSITIONS, NO_POSITIONS, (), tmp_path)
    assert "data" not in vars(stored) and references(stored) == refs == references(plain)
    assert stored.data == data and stored.data is stored.data and "_blob" not in vars(stored)
    assert sorted(vars(stored)) == sorted(field.name for field in fields(Loaded))  # every field set, as __init__ would
    fresh = Undecoded.of("records/a.yml", marshal.dumps(data), refs, (), tmp_path)
    unpickled = pickle.loads(pickle.dumps(fresh))
    assert fresh == plain and plain == fresh and "data" not in vars(unpickled) and unpickled == plain
    other = replace(fresh, data={**data, "id": "2025-01-02-b"})
    assert references(other).id == "2025-01-02-b" and fresh != other and replace(fresh, data=None).data is None


def test_the_quote_and_official_rules_walk_again_only_records_whose_findings_may_differ(
        tmp_path: Path, checked: list[list[str]], walked: list[list[str]]) -> None:
    layout = copy_dataset(tmp_path / "repo")
    records = sorted(layout.relative(path) for path in layout.records.glob("*.yml"))
    edit(layout, THREE_RELEASED, "  as_written: ", "  as_written: Zzyzx ")  # its quotes no longer name an official
    # written with other quote marks than the source's: found, and published as the source writes it
    edit(layout, NEGOTIATES, '"выведению Минска с орбиты Москвы"', "«выведению Минска с орбиты Москвы»")

    def walked_with_cache() -> tuple[CheckResult, list[str]]:
        return same_as_without(layout, checked)[0], walked[-1]

    result, walked_now = walked_with_cache()
    assert walked_now == records
    assert [(p.file, p.type) for p in result.problems] == [(THREE_RELEASED, "official-not-named")] * 3
    (text,) = result.quote_texts.values()
    assert text.endswith('плана по "выведению Минска с орбиты Москвы", хотя бы частично.')
    # Warm: the problems of the record with no name come from the cache; the one quoting in other characters is
    # walked every time, so that the build has the source's text
    assert walked_with_cache()[1] == [NEGOTIATES]
    edit(layout, VISIT, "Джон Коул сообщил", "Джон Коул сообщыл")  # a typo in a quote: walked while it is there
    assert walked_with_cache()[1] == [VISIT, NEGOTIATES]
    edit(layout, VISIT, "Джон Коул сообщыл", "Джон Коул сообщил")
    assert walked_with_cache()[1] == [VISIT, NEGOTIATES]  # its bytes as before, its results since forgotten
    assert walked_with_cache()[1] == [NEGOTIATES]
    # A source: the records that cite it. A person's name forms: every record.
    source = layout.sources / "003_9b2d8587e965d613.txt"
    source.write_text(source.read_text(encoding="utf-8") + "\nОдна строка больше.\n", encoding="utf-8")
    citing = [name for name in records if f"file: {source.name}" in (layout.root / name).read_text(encoding="utf-8")]
    assert 0 < len(citing) < len(records) and NEGOTIATES not in citing
    assert walked_with_cache()[1] == sorted([*citing, NEGOTIATES])
    assert walked_with_cache()[1] == [NEGOTIATES]
    edit(layout, "registry/people.yml", "uk: Крістофер Сміт\n", "uk: Крістофер Смітт\n")
    assert walked_with_cache()[1] == records


def test_a_record_taking_another_records_id_is_checked_alike_with_and_without_the_cache(
        tmp_path: Path, checked: list[list[str]]) -> None:
    # Its quotes are its own: one that is not in the source is not read by the rule on officials, whichever record
    # of that id the cache has settled.
    layout = copy_dataset(tmp_path / "repo")
    copy = layout.records / "2025-09-11-coale-visit-copy.yml"
    copy.write_text((layout.root / VISIT).read_text(encoding="utf-8").replace("Джон Коул сообщил", "Посланник сообщил"),
                    encoding="utf-8")
    for _ in range(2):  # the first check walks every record; the second has VISIT settled
        result = same_as_without(layout, checked)[0]
        assert {(p.file, p.type) for p in result.problems} == {(layout.relative(copy), "duplicate-id"),
                                                              (layout.relative(copy), "quote-not-found")}


def test_a_failure_of_the_rule_on_officials_is_its_one_problem_with_and_without_the_cache(
        tmp_path: Path, checked: list[list[str]], monkeypatch: pytest.MonkeyPatch) -> None:
    layout = copy_dataset(tmp_path / "repo")
    edit(layout, THREE_RELEASED, "  as_written: ", "  as_written: Zzyzx ")  # problems that the cache then keeps
    same_as_without(layout, checked)
    real = check_module.official_problems

    def failing(records: list[Loaded], *rest: Any) -> Any:
        if any(loaded.file == VISIT for loaded in records):
            raise RuntimeError("a bug met in one record")
        return real(records, *rest)

    monkeypatch.setattr(check_module, "official_problems", failing)
    edit(layout, VISIT, "Джон Коул сообщил", "Джон Коул  сообщил")  # walked again: the rule fails on it
    result = same_as_without(layout, checked)[0]
    assert [(p.file, p.type) for p in result.problems] == [("registry/people.yml", "internal-error")]


def test_a_record_is_settled_only_while_every_quote_was_found_as_written_and_both_rules_ran(tmp_path: Path) -> None:
    cache = cache_module.CheckCache(tmp_path)
    name = "records/a.yml"
    cache.put(b"bytes", None, (True, (), (), Loaded(name, {})), name)
    cache.put_quotes(name, ((b"source", True, None),))
    cache.put_officials(name, "key", ())
    assert cache.settled(name, b"context") is None  # the rules ran, but in no context the cache was told of
    cache.settle({name: b"context"})
    assert cache.settled(name, b"context") == () and cache.settled(name, b"another context") is None
    unnamed = Problem(name, 3, 5, "official-not-named", "does not name them")
    cache.put_officials(name, "another key", [unnamed])  # as a check that stopped before settling would leave it
    assert cache.settled(name, b"context") is None
    cache.settle({name: b"context"})
    assert cache.settled(name, b"context") == (unnamed,)
    cache.put_quotes(name, ((b"source", "«as the source writes it»", None),))
    cache.settle({name: b"context"})
    assert cache.settled(name, b"context") is None


DAMAGE = [lambda content: b"\x00\xff" * 99, lambda content: b"", lambda content: content[:len(content) // 2],
          lambda content: content[:-9] + bytes([content[-9] ^ 1]) + content[-8:],  # one bit of one byte
          lambda content: content.replace(b"check cache\n", b"check cache\r")]  # another version's


def test_a_damaged_or_foreign_cache_is_ignored_and_written_anew(dataset: Layout, checked: list[list[str]]) -> None:
    reference = check_dataset(dataset)
    dataset.cache.mkdir(parents=True)
    (dataset.cache / "check-07.marshal").write_bytes(b"an earlier version's")
    assert check_dataset(dataset, cache=True) == reference
    [path] = cache_files(dataset)  # and the earlier version's file is gone
    for damage in DAMAGE:
        path.write_bytes(damage(path.read_bytes()))
        checked.clear()
        assert check_dataset(dataset, cache=True) == reference
        assert len(checked[0]) == len(reference.records)  # nothing came from the damaged file
        assert same_as_without(dataset, checked, reference)[1] == []  # and it was written anew


def test_a_cache_of_many_frames_reads_back_whole_or_not_at_all(dataset: Layout, checked: list[list[str]],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_files_module, "CHUNK", 2)  # the records' entries in several frames
    reference = check_dataset(dataset)
    assert same_as_without(dataset, checked, reference)[1]
    assert same_as_without(dataset, checked, reference)[1] == []  # every frame read back
    [path] = cache_files(dataset)
    content = path.read_bytes()
    assert content[-13:-5] == bytes(7) + b"\x01"  # the end frame: its length and CRC, and a marshalled None (N)
    # cut short just before it (the frames before are whole), or a length that says more than the whole file
    for damaged in (content[:-13], content[:-13] + b"\xff" + content[-12:]):
        path.write_bytes(damaged)
        checked.clear()
        assert check_dataset(dataset, cache=True) == reference
        assert len(checked[0]) == len(reference.records)  # nothing came from the damaged file


def touch_records(layout: Layout, count: int) -> list[str]:
    """A comment added to the first `count` records: new bytes, the same data."""
    names = sorted(layout.relative(path) for path in layout.records.glob("*.yml"))[:count]
    for name in names:
        with (layout.root / name).open("a", encoding="utf-8") as file:
            file.write("# touched\n")
    return names


def test_a_few_changes_are_written_on_their_own_and_read_back_with_the_rest(dataset: Layout, checked: list[list[str]],
                                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that changed few entries writes only those, beside CACHE_FILE, whose bytes stay; the next check reads
    both. Once the changes are more than one entry in FEW_CHANGES, every entry is written again, and they go."""
    monkeypatch.setattr(cache_module, "FEW_CHANGES", 4)
    records = len(list(dataset.records.glob("*.yml")))
    reference = check_dataset(dataset)
    same_as_without(dataset, checked, reference)
    main, changes = dataset.cache / CACHE_FILE, dataset.cache / CHANGES_FILE
    written = main.read_bytes()
    assert not changes.exists()
    edit(dataset, SMITH, "Крістофер Сміт", "Крістофер Смит")
    assert same_as_without(dataset, checked)[1] == [SMITH]
    assert main.read_bytes() == written and changes.exists()
    assert same_as_without(dataset, checked)[1] == []  # its entry read back from the changes
    edit(dataset, SMITH, "Крістофер Смит", "Крістофер Сміт")
    assert same_as_without(dataset, checked, reference)[1] == [SMITH]
    assert main.read_bytes() == written
    kept = (dataset.root / SMITH).read_bytes()
    (dataset.root / SMITH).unlink()
    same_as_without(dataset, checked)
    (dataset.root / SMITH).write_bytes(kept)
    assert same_as_without(dataset, checked, reference)[1] == [SMITH]  # its entry went with the file
    assert main.read_bytes() == written

    touched = touch_records(dataset, records // 4 + 1)
    assert same_as_without(dataset, checked)[1] == touched
    assert main.read_bytes() != written and not changes.exists()
    assert same_as_without(dataset, checked)[1] == []


def test_changes_damaged_or_made_to_another_generation_are_not_applied(dataset: Layout, checked: list[list[str]],
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cache_module, "FEW_CHANGES", 4)
    records = len(list(dataset.records.glob("*.yml")))
    reference = check_dataset(dataset)
    same_as_without(dataset, checked, reference)
    edit(dataset, SMITH, "Крістофер Сміт", "Крістофер Смит")
    same_as_without(dataset, checked)
    changes = dataset.cache / CHANGES_FILE
    content = changes.read_bytes()
    for damage in DAMAGE:
        changes.write_bytes(damage(content))
        assert same_as_without(dataset, checked)[1] == [SMITH]  # its entry is CACHE_FILE's, of its old bytes

    edit(dataset, SMITH, "Крістофер Смит", "Крістофер Сміт")
    touch_records(dataset, records // 4 + 1)
    same_as_without(dataset, checked)  # a new generation, with SMITH's entry of these bytes
    changes.write_bytes(content)  # SMITH's entry of the bytes it had, made to the generation before
    assert same_as_without(dataset, checked)[1] == []


def test_a_cache_that_cannot_be_written_is_not_written(mini: Layout) -> None:
    reference = check_dataset(mini)
    mini.build.write_text("not a folder", encoding="utf-8")  # build/cache/ cannot be made
    assert check_dataset(mini, cache=True) == reference
    assert mini.build.read_text(encoding="utf-8") == "not a folder"


def test_a_file_that_changes_while_it_is_checked_is_not_kept(mini: Layout, checked: list[list[str]],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    spy = check_module.check_record_files

    def saving_meanwhile(layout: Layout, names: list[str], *rest: Any) -> Any:
        found = list(spy(layout, names, *rest))
        with (mini.root / BASE_TARGET).open("a", encoding="utf-8") as file:  # an editor saves as the check reads
            file.write("# saved\n")
        return (checked for checked in found)

    monkeypatch.setattr(check_module, "check_record_files", saving_meanwhile)
    check_dataset(mini, cache=True)
    monkeypatch.setattr(check_module, "check_record_files", spy)
    assert same_as_without(mini, checked)[1] == [BASE_TARGET]  # its new bytes are checked, not taken for the old


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The files whose bytes the cache hashed to know whether they changed (those it could not know by status)."""
    calls: list[str] = []
    real = cache_module.file_digest

    def spy(path: str) -> bytes | None:
        calls.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(cache_module, "file_digest", spy)
    return calls


def test_a_status_stands_for_bytes_only_while_it_is_the_same(dataset: Layout, checked: list[list[str]],
                                                             hashed: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    reference = check_dataset(dataset)
    same_as_without(dataset, checked, reference)
    hashed.clear()
    assert same_as_without(dataset, checked, reference)[1] == [] and hashed  # just written: each file is hashed

    monkeypatch.setattr(cache_module, "SETTLED_NS", -10**12)  # as if every file were older than the check
    same_as_without(dataset, checked, reference)  # keeps each file's status
    hashed.clear()
    assert same_as_without(dataset, checked, reference)[1] == [] and hashed == []  # known by status alone

    path = dataset.root / SMITH
    status = path.stat()
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns + 10**9))  # a checkout: a new time, the same bytes
    assert same_as_without(dataset, checked, reference)[1] == [] and hashed == [path.name]

    # the same size and modification time, other bytes: the change time still tells
    status = path.stat()
    edit(dataset, SMITH, "Крістофер Сміт", "Крістофер Смит")
    os.utime(path, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert path.stat().st_size == status.st_size
    assert same_as_without(dataset, checked)[1] == [SMITH]


def test_a_source_known_by_its_status_is_read_only_to_look_for_a_changed_records_quotes(
        dataset: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """A source document whose status is the one the cache keeps with its SHA-256 is not read by the check, but
    when a quote of a changed record is looked for in it; another status has it read again, even with its size and
    modification time (the change time tells)."""
    read: list[str] = []
    real = Path.read_bytes

    def spy(path: Path) -> bytes:
        if path.parent == dataset.sources:
            read.append(path.name)
        return real(path)

    monkeypatch.setattr(Path, "read_bytes", spy)
    monkeypatch.setattr(cache_module, "SETTLED_NS", -10**12)  # as if every file were older than the check
    sources = sorted(path.name for path in dataset.sources.glob("*.txt"))
    reference = check_dataset(dataset)
    read.clear()
    assert check_dataset(dataset, cache=True) == reference and sorted(set(read)) == sources  # cold: each is read
    read.clear()
    assert check_dataset(dataset, cache=True) == reference and read == []  # known by status alone

    edit(dataset, SMITH, "Крістофер Сміт", "Крістофер Смит")  # a quote of one record, looked for again
    cited = sorted(set(cited_files(next(record for record in check_dataset(dataset).records if record.file == SMITH))))
    read.clear()
    result = check_dataset(dataset, cache=True)
    assert [p.type for p in result.problems] == ["quote-not-found"] and sorted(set(read)) == cited

    source = dataset.sources / "003_9b2d8587e965d613.txt"  # other bytes, the same size and modification time
    status = source.stat()
    edit(dataset, "sources/003_9b2d8587e965d613.txt", "заступник помічника", "заступнек помічника")
    os.utime(source, ns=(status.st_atime_ns, status.st_mtime_ns))
    assert source.stat().st_size == status.st_size
    read.clear()
    result = check_dataset(dataset, cache=True)
    assert source.name in read and result == check_dataset(dataset)
    assert {p.type for p in result.problems} == {"quote-not-found", "source-changed"}


def test_a_source_known_by_its_status_and_changed_before_it_is_read_is_said_to_have_changed(
        dataset: Layout, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its quotes are never looked for in other bytes than those the check knew it by, and published."""
    monkeypatch.setattr(cache_module, "SETTLED_NS", -10**12)  # as if every file were older than the check
    check_dataset(dataset, cache=True)
    check_dataset(dataset, cache=True)  # each source's status kept
    edit(dataset, SMITH, "Крістофер Сміт", "Крістофер Смит")  # its quotes looked for again
    source = "003_9b2d8587e965d613.txt"
    real = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: real(path).replace("заступник".encode(), "заступнек".encode())
                        if path.name == source else real(path))  # written between its status and its bytes
    problems = check_dataset(dataset, cache=True).problems
    assert (f"sources/{source}", "source-changed") in [(p.file, p.type) for p in problems]
    assert "internal-error" not in {p.type for p in problems}


@pytest.mark.parametrize("by_folder", [True, False], ids=["status read in the open root", "by joined path"])
def test_a_file_is_known_by_its_status_read_either_way(dataset: Layout, checked: list[list[str]], hashed: list[str],
                                                      by_folder: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Where the system cannot read a status relative to an open folder, each record's path is joined instead."""
    if not by_folder:
        monkeypatch.setattr(os, "supports_dir_fd", set())
    monkeypatch.setattr(cache_module, "SETTLED_NS", -10**12)  # as if every file were older than the check
    reference = check_dataset(dataset)
    same_as_without(dataset, checked, reference)
    hashed.clear()
    assert same_as_without(dataset, checked, reference)[1] == [] and hashed == []
    edit(dataset, SMITH, "Крістофер Сміт", "Крістофер Смит")
    assert same_as_without(dataset, checked)[1] == [SMITH]


def test_only_a_settled_status_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "record.yml"
    path.write_text("id: x\n", encoding="utf-8")
    status = path.stat()
    assert cache_module.stat_key(status, time.time_ns()) is None  # written just now: a write in the same tick could keep it
    later = status.st_ctime_ns + cache_module.SETTLED_NS + 1
    assert cache_module.stat_key(status, later) == (status.st_ino, status.st_size, status.st_mtime_ns, status.st_ctime_ns)


def test_validate_keeps_a_cache_unless_told_not_to(mini: Layout) -> None:
    runner = CliRunner()
    without = runner.invoke(cli, ["validate", "--no-cache", "--root", str(mini.root)])
    assert not mini.build.exists()
    for _ in range(2):  # writing the cache, then reading it
        with_cache = runner.invoke(cli, ["validate", "--root", str(mini.root)])
        assert (with_cache.exit_code, with_cache.output) == (without.exit_code, without.output)
    assert cache_files(mini)


# The rules across files at scale

def _record(record_id: str, links: list[str]) -> Loaded:
    data = {"id": record_id, "sources": [], "links": [{"event": other, "relation": "after"} for other in links]}
    return Loaded(f"records/{record_id}.yml", data)


def test_an_unknown_link_is_matched_with_ids_of_its_date_or_its_slug(tmp_path: Path) -> None:
    """Not with every id, which would cost each broken link the size of the dataset: a typo in both the date and
    the slug gets no suggestion."""
    ids = [f"{date}-talks-in-minsk-{n}" for date in ("2025-01-01", "2025-02-15", "2025-03-20") for n in range(3)]
    records = [_record(record_id, []) for record_id in ids]
    links = ["2025-01-01-talks-in-minks-1", "2025-02-16-talks-in-minsk-2", "2025-02-16-talks-in-minks-2", "2024-12-31-other"]
    records.append(_record("2025-09-11-coale-visit", links))
    empty = Loaded("registry/people.yml")
    found = crossref_problems(Layout(tmp_path), records, empty, empty, complete=False,
                              record_ids=[*ids, "2025-09-11-coale-visit"])
    advice = [re.search(r"\(did you mean '([^']+)'\?\)", p.message) for p in found]
    assert [a.group(1) if a else None for a in advice] == ["2025-01-01-talks-in-minsk-1", "2025-02-15-talks-in-minsk-2",
                                                           None, None]


def _source_text_char_by_char(text: str) -> tuple[str, list[int]]:
    """SourceText.of's meaning, one character at a time: NFC, plain quote marks, each run of whitespace one space
    where it starts, none at either end; and where each character of the result comes from."""
    normal: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(unicodedata.normalize("NFC", text).translate(QUOTE_MARKS)):
        if not char.isspace():
            normal.append(char)
            origin.append(index)
        elif normal and normal[-1] != " ":
            normal.append(" ")
            origin.append(index)
    if normal and normal[-1] == " ":
        normal.pop()
        origin.pop()
    return "".join(normal), origin


def test_source_text_is_what_a_walk_character_by_character_makes(real: Layout) -> None:
    alphabet = " \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000ab«»“”‘’`'\"e\u0301Жж."
    rng = random.Random(12)
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(3000)]
    for text in [*texts, *(path.read_text(encoding="utf-8") for path in sorted(real.sources.glob("*.txt")))]:
        source = SourceText.of(text)
        assert (source.normal, [source.origin(i) for i in range(len(source.normal))]) == _source_text_char_by_char(text)


@pytest.mark.parametrize(("text", "forms"), [
    ("встретился с Лукашенко.", ["лукашенко"]), ("встретился с Лукашенком", ["лукашенко"]),
    ("с «Джоном  Коулом» и Смитом", ["смит", "джоном коулом"]), ("Смитом", ["смит", "смитом"]), ("a.b", ["a.b", ""]),
    ("nothing", []), ("(Коул)", ["коул)", "(коул"])])
def test_names_any_finds_what_one_search_per_form_finds(text: str, forms: list[str]) -> None:
    comparable = re.sub(r"\s+", " ", text.replace("«", '"').replace("»", '"')).strip().casefold()
    one_by_one = any(re.search(rf"(?<!\w){re.escape(form)}(?!\w)", comparable) for form in forms if form)
    assert names_any(text, forms) == one_by_one
