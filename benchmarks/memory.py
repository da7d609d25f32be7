"""The memory a measured process and every process it started hold together, at its peak.

The kernel's own peak (ru_maxrss, which os.wait4 gives) is that of the largest single process: it leaves out the
database process that works beside a build, and the workers that check files on every core. So this samples
/proc every few tenths of a second: the sum of each process's proportional set size (PSS: a page that forked
processes share is counted once, split between them), read parents first. A sample can miss a peak shorter
than the interval, and one taken while a process forks or ends can be off by that process's shared pages (each
process is read at its own moment). Where /proc has no smaps_rollup (not Linux), or no sample found the process
holding anything (it ended first), there is no figure: None.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from types import TracebackType

SAMPLE_SECONDS = 0.1  # a sample costs 2-4 ms of one core, taken from the measured process's machine
PROC = Path("/proc")


def descendants(pid: int) -> list[int]:
    """`pid` and every process under it, as /proc shows them now, each after its parent."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir(PROC):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:  # it ended while we looked
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])  # after the command name, which may hold spaces
            children.setdefault(parent, []).append(int(entry.name))
    found, waiting = [], [pid]
    while waiting:
        current = waiting.pop(0)
        found.append(current)
        waiting += children.get(current, [])
    return found


def pss_kib(pid: int) -> int:
    """The proportional set size of one process in KiB; 0 once it has ended."""
    try:
        with open(PROC / str(pid) / "smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


class TreeMemory:
    """Samples, for the time of a `with` block and every `every` seconds, the memory of process `pid` and its
    descendants; `peak_mib` is the largest sum seen, or None (see above)."""

    def __init__(self, pid: int, every: float = SAMPLE_SECONDS) -> None:
        self.pid = pid
        self.every = every
        self.peak_kib: int | None = 0 if (PROC / str(pid) / "smaps_rollup").exists() else None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> TreeMemory:
        if self.peak_kib is not None:
            self._thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join()

    @property
    def peak_mib(self) -> float | None:
        return self.peak_kib / 1024 if self.peak_kib else None

    def _sample(self) -> None:
        while not self._stop.is_set():
            total = sum(pss_kib(pid) for pid in descendants(self.pid))
            self.peak_kib = max(self.peak_kib or 0, total)
            self._stop.wait(self.every)
