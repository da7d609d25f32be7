"""Publishing is all-or-nothing: at every instant, build/current shows every output of one build.

Ways of breaking a build, each followed by the next build:
- every step of a publication (each filesystem call export/publish.py makes), failed before and after it runs,
  both as an error the build sees (OSError: EIO, a full disk) and as a crash that ends the process on the spot;
- kill -9 at seeded random moments, of a process that publishes in a loop and of `python -m belarus_releases build`;
- two builds at once.
After each, a reader of build/current sees all-old or all-new outputs (never a mix, never nothing), the old
release is still there when the new one is live (for a rollback), and the next build leaves no leftovers.
The figures are printed with `pytest tests/test_publish.py -s` and quoted in the README's Reliability section.
"""

from __future__ import annotations

import errno
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from belarus_releases.export import publish as publish_module
from belarus_releases.export.build import build_dataset
from belarus_releases.export.publish import build_lock, live_release, release, rollback
from belarus_releases.layout import Layout
from build_support import edit_record, use_fixture_dataset
from publish_support import Crash, Injector, contents, injected, leftovers, readable, staged

TESTS = Path(__file__).resolve().parent
README = (TESTS.parent / "README.md").read_text(encoding="utf-8")
SEED = 20251126
LOOP_KILLS = 10
BUILD_KILLS = 3
SMITH = "2025-02-12-smith-visits-minsk"


def old_state(root: Path) -> Layout:
    """A build folder as a build finds it: a live release (old), the one before it (older), and what a killed
    build left (a staging folder and a half-made link)."""
    layout = Layout(root)
    for version in ("older", "old"):
        assert release(layout, staged(contents(version))) == ([], live_release(layout))
    (layout.build / ".staging-killed").mkdir()
    (layout.build / ".staging-killed" / "events.csv").write_bytes(b"half")
    os.symlink("releases/nowhere", layout.build / ".current-999999")
    return layout


def run_with(layout: Layout, injector: Injector, monkeypatch: pytest.MonkeyPatch) -> tuple[list, Path | None] | None:
    """Publish the new release with failures injected; None when the injected crash ended the 'process'."""
    with monkeypatch.context() as patch:
        for name, module in injected(injector).items():
            patch.setattr(publish_module, name, module)
        try:
            return release(layout, staged(contents("new")))
        except Crash:
            return None


def check_trial(layout: Layout, outcome: tuple[list, Path | None] | None) -> str:
    """All-old or all-new, as the build said; the old release kept; then the next build cleans up. Returns which."""
    seen = readable(layout)
    state = {readable_of("old"): "old", readable_of("new"): "new"}.get(_key(seen))
    assert state, f"mixed or missing outputs: {sorted(set(seen.values()))[:4]}"
    if outcome is not None:  # the build saw an error: it must say exactly what happened
        problems, published = outcome
        assert (state == "new") == (not problems) == (published is not None), (state, problems)
        if problems:
            assert [p.type for p in problems] == ["build-failed"]
            assert problems[0].message.endswith("nothing was published: build/current is as it was")
    if state == "new":
        assert {path.name for path in layout.releases.iterdir()} >= {live_release(layout).name}  # type: ignore[union-attr]
        assert any(readable_folder(path) == contents("old") for path in layout.releases.iterdir()), "old release lost"
    assert release(layout, staged(contents("next"))) == ([], live_release(layout))
    assert readable(layout) == contents("next")
    assert leftovers(layout) == []
    return state


def readable_of(version: str) -> frozenset[tuple[str, bytes]]:
    return _key(contents(version))


def _key(files: dict[str, bytes]) -> frozenset[tuple[str, bytes]]:
    return frozenset(files.items())


def readable_folder(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def count_steps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    injector = Injector()
    layout = old_state(tmp_path / "dry")
    assert run_with(layout, injector, monkeypatch) == ([], live_release(layout))
    return injector.steps


@pytest.fixture
def in_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A folder for many small trials: in memory (tmpfs) where there is one, with fsync still a step (counted, and
    failed in turn) that does nothing. These trials stop the process, not the machine, so the page cache is what
    the next build finds; a disk and real fsyncs would only make them four times slower."""
    monkeypatch.setattr(os, "fsync", lambda descriptor: None)
    memory = Path("/dev/shm")
    if not (memory.is_dir() and os.access(memory, os.W_OK)):
        yield tmp_path
        return
    folder = Path(tempfile.mkdtemp(prefix="belarus-releases-test-", dir=memory))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_a_failure_or_crash_at_any_step_leaves_all_old_or_all_new(in_memory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tmp_path = in_memory
    steps = count_steps(tmp_path, monkeypatch)
    assert "replace" in steps and "rename" in steps and "rmtree" in steps
    seen = {(crash, state): 0 for crash in (False, True) for state in ("old", "new")}
    for number in range(1, len(steps) + 1):
        for after in (False, True):
            for crash in (False, True):
                layout = old_state(tmp_path / f"{number}-{after}-{crash}")
                outcome = run_with(layout, Injector(number, after=after, crash=crash), monkeypatch)
                seen[crash, check_trial(layout, outcome)] += 1
    # A crash before the switch (the rename over build/current) leaves all-old, after it all-new. An error is the
    # same, except that a failure to remove a leftover is left for the next build, and that build goes on.
    switch = steps.index("replace") + 1
    assert (seen[True, "old"], seen[True, "new"]) == (2 * switch - 1, 2 * len(steps) - 2 * switch + 1)
    figures = (f"{len(steps)} publishing steps", f"{sum(seen.values())} faults",
               f"{seen[True, 'old'] + seen[False, 'old']} left all-old", f"step {switch} of {len(steps)}",
               f"{seen[True, 'new'] + seen[False, 'new']} all-new")
    print("\n" + "; ".join(figures) + "; 0 mixed, 0 lost, 0 leftovers after the next build")
    assert all(figure in " ".join(README.split()) for figure in figures), "update the README's Reliability figures"


def test_a_crash_while_writing_the_outputs_leaves_all_old(tmp_path: Path) -> None:
    layout = old_state(tmp_path)

    def half_then_crash(folder: Path) -> list:
        staged(dict(list(contents("new").items())[:5]))(folder)
        raise Crash("while writing")

    with pytest.raises(Crash):
        release(layout, half_then_crash)
    assert readable(layout) == contents("old")
    assert check_trial(layout, None) == "old"


def test_kill_9_while_publishing_in_a_loop(tmp_path: Path) -> None:
    """A process publishing releases A and B in turn, killed at seeded random moments: A or B, never a mix."""
    randomness = random.Random(SEED)
    versions = {readable_of(version): version for version in "AB"}
    for trial in range(LOOP_KILLS):
        layout = Layout(tmp_path / f"kill-{trial}")
        release(layout, staged(contents("A")))
        process = subprocess.Popen([sys.executable, str(TESTS / "publish_support.py"), str(layout.root)],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        assert process.stdout is not None and process.stdout.readline() == b"ready\n"
        time.sleep(randomness.uniform(0.0, 0.05))
        process.send_signal(signal.SIGKILL)
        assert process.wait() == -signal.SIGKILL, process.stderr.read() if process.stderr else ""
        assert _key(readable(layout)) in versions, "mixed outputs after kill -9"
        assert release(layout, staged(contents("next"))) == ([], live_release(layout))
        assert leftovers(layout) == []
    print(f"\n{LOOP_KILLS} kill -9 of a process publishing in a loop: 0 mixed, 0 leftovers after the next build")


@pytest.fixture
def dataset(repo: Layout) -> Layout:
    return use_fixture_dataset(repo)


def test_kill_9_of_the_real_build(fixture_built: Layout) -> None:
    """`python -m belarus_releases build` killed at seeded moments once it has begun writing its outputs."""
    randomness = random.Random(SEED)
    dataset = fixture_built
    old = readable(dataset)
    edit_record(dataset, SMITH, "title: US Deputy", "title: The US Deputy")
    killed = []
    for _ in range(BUILD_KILLS):
        if readable(dataset) != old:
            rollback(dataset)
        assert readable(dataset) == old
        killed.append(_kill_build(dataset, randomness.uniform(0.0, 0.05)))
    assert build_dataset(dataset).ok  # the next build
    new = readable(dataset)
    assert new != old
    assert all(state in (old, new) for state in killed), "mixed outputs after kill -9"
    assert leftovers(dataset) == []
    print(f"\n{BUILD_KILLS} kill -9 of `python -m belarus_releases build` while publishing: "
          f"{sum(state == old for state in killed)} left all-old, {sum(state == new for state in killed)} all-new, "
          "0 mixed, 0 leftovers after the next build")


def _kill_build(layout: Layout, delay: float) -> dict[str, bytes]:
    """Start a build, wait until it has written its last output (overview.md) into its own staging folder,
    which it then verifies and publishes, and kill it `delay` seconds later."""
    before = set(os.listdir(layout.build))
    process = subprocess.Popen([sys.executable, "-m", "belarus_releases", "build", "--root", str(layout.root)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while process.poll() is None and time.monotonic() < deadline and not _staged(layout, before):
        time.sleep(0.001)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return readable(layout)


def _staged(layout: Layout, before: set[str]) -> bool:
    folders = [layout.build / name for name in set(os.listdir(layout.build)) - before if name.startswith(".staging-")]
    return any((folder / "overview.md").exists() for folder in folders)


def test_a_full_disk_at_the_switch_is_a_located_problem(in_memory: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = old_state(in_memory)

    def full_disk(source: str, target: str) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), source, None, target)

    monkeypatch.setattr(publish_module.os, "replace", full_disk)
    problems, published = release(layout, staged(contents("new")))
    assert ([p.to_text() for p in problems], published) == ([
        "build/current:0:0: [build-failed] the build failed here: No space left on device (ENOSPC); "
        "nothing was published: build/current is as it was"], None)
    assert readable(layout) == contents("old")
    assert len(os.listdir(layout.releases)) == 2 and leftovers(layout) == []  # the new release and its link removed


def test_a_second_build_while_one_runs_is_refused_at_once(dataset: Layout) -> None:
    with build_lock(dataset):
        result = build_dataset(dataset)
    assert [p.to_text() for p in result.problems] == [
        f"build/.lock:0:0: [build-failed] another build (pid {os.getpid()}) is running; "
        "run this build again when it has finished; nothing was changed"]
    assert not dataset.current.exists()
    assert build_dataset(dataset).ok  # the lock went with the build that held it


def test_the_lock_of_a_killed_build_is_free(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.build.mkdir()
    holder = subprocess.Popen([sys.executable, "-c", "import fcntl, os, sys, time\n"
                               "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
                               "fcntl.flock(fd, fcntl.LOCK_EX); os.write(fd, b'4242'); print('locked', flush=True)\n"
                               "time.sleep(60)", str(layout.build_lock)], stdout=subprocess.PIPE)
    assert holder.stdout is not None and holder.stdout.readline() == b"locked\n"
    problems, _ = release(layout, staged(contents("A")))
    assert "another build (pid 4242) is running" in problems[0].message
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert release(layout, staged(contents("A"))) == ([], live_release(layout))


def test_rollback_switches_to_the_previous_release(tmp_path: Path) -> None:
    layout = old_state(tmp_path)
    assert rollback(layout) is not None and readable(layout) == contents("older")
    assert release(layout, staged(contents("new"))) == ([], live_release(layout))
    assert readable(layout) == contents("new") and leftovers(layout) == []


def test_release_folders_are_numbered_whatever_the_clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    layout = old_state(tmp_path)
    epoch = time.gmtime(0)
    monkeypatch.setattr(publish_module.time, "gmtime", lambda *seconds: epoch)  # a clock gone back to 1970
    assert release(layout, staged(contents("new"))) == ([], live_release(layout))
    names = sorted(os.listdir(layout.releases))
    assert [re.sub(r"-.*", "", name) for name in names] == ["000002", "000003"] and readable(layout) == contents("new")


def test_outputs_of_builds_before_releases_are_removed_once_a_release_is_live(tmp_path: Path) -> None:
    """build/events.csv from an older toolkit would otherwise stay there, stale, next to build/current."""
    layout = Layout(tmp_path)
    layout.build.mkdir()
    for name in ("events.csv", "belarus-releases.db", "notes.txt"):
        (layout.build / name).write_text("from before\n", encoding="utf-8")
    assert release(layout, staged(contents("A"))) == ([], live_release(layout))
    assert sorted(os.listdir(layout.build)) == [".lock", "current", "notes.txt", "releases"]


def test_tables_made_ahead_are_removed_once_their_build_has_ended(tmp_path: Path) -> None:
    """A build's database process makes them while the build checks its dataset, without the lock: a build that
    publishes meanwhile leaves them to their build, and removes those of a build killed before it took them."""
    layout = Layout(tmp_path)
    layout.build.mkdir()
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                           check=True).stdout.strip()
    for pid in (ended, str(os.getpid()), "x"):
        (layout.build / f".ahead-{pid}-0a1b2c3d.db").write_bytes(b"")
    assert release(layout, staged(contents("A"))) == ([], live_release(layout))
    assert sorted(name for name in os.listdir(layout.build) if name.startswith(".ahead-")) == [
        f".ahead-{os.getpid()}-0a1b2c3d.db", ".ahead-x-0a1b2c3d.db"]
    named = publish_module.AHEAD_NAME.fullmatch(publish_module.ahead_path(layout).name)  # as a build names its own
    assert named is not None and named.group(1) == str(os.getpid())


def fsyncs_seen(monkeypatch: pytest.MonkeyPatch, publishing: Callable[[list[str]], object]) -> list[str]:
    """The name of each file or folder fsynced from now on, in order; `publishing` is given them so far when the
    build starts to publish."""
    synced: list[str] = []
    real_fsync, real_publish = os.fsync, publish_module.publish

    def fsync(descriptor: int) -> None:
        synced.append(os.path.basename(os.readlink(f"/proc/self/fd/{descriptor}")))
        real_fsync(descriptor)

    def publish(layout: Layout, staging: Path) -> Path:
        publishing(synced)
        return real_publish(layout, staging)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(publish_module, "publish", publish)
    return synced


def test_a_full_build_makes_its_files_durable_before_it_publishes(fixture_dataset: Layout,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """As each file is final (publish fsyncs every new file again, and then finds little left to write)."""
    before_publishing: list[str] = []
    fsyncs_seen(monkeypatch, before_publishing.extend)
    assert build_dataset(fixture_dataset).ok
    final = {"datapackage.json", "belarus-releases.zip", "events.csv", "quotes.json", "events.parquet"}
    assert final <= set(before_publishing)
    assert any(name.endswith(".txt") for name in before_publishing)  # the source documents
    assert "belarus-releases.db" not in before_publishing  # the database process's: synced when published


def test_publishing_makes_durable_what_the_live_release_does_not_already_hold(fixture_built: Layout,
                                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A file linked from the live release was made durable when that release was published: only the new files,
    and the folder that names them all, are synced again."""
    layout = fixture_built
    edit_record(layout, "2025-02-12-smith-visits-minsk", "title: US Deputy", "title: The US Deputy")
    synced = fsyncs_seen(monkeypatch, lambda before: before.clear())  # what publishing syncs, not the build before
    result = build_dataset(layout)
    assert result.ok and result.release is not None
    linked = {name for name in os.listdir(result.release) if (result.release / name).stat().st_nlink > 1}
    assert {"people.csv", "people.json"} <= linked and any(name.endswith(".txt") for name in linked)
    assert {"events.csv", "events.json", "belarus-releases.db", "datapackage.json"} <= set(synced)
    assert not linked & set(synced)
    assert any(name.startswith(".staging-") for name in synced) and "releases" in synced


def test_a_file_that_cannot_be_made_durable_early_is_an_error(tmp_path: Path) -> None:
    syncing = publish_module.EarlySync()
    try:
        syncing.add([tmp_path / "gone.csv"])
        with pytest.raises(FileNotFoundError):
            syncing.wait()
    finally:
        syncing.close()


def test_a_failed_fsync_names_its_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def failing(_: int) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    (tmp_path / "events.csv").write_text("id\n", encoding="utf-8")
    monkeypatch.setattr(os, "fsync", failing)
    syncing = publish_module.EarlySync()
    try:
        syncing.add([tmp_path / "events.csv"])
        with pytest.raises(OSError) as raised:
            syncing.wait()
    finally:
        syncing.close()
    assert (raised.value.errno, raised.value.filename) == (errno.EIO, str(tmp_path / "events.csv"))
