"""One measurement = one fresh process: its wall time (seen from here), its CPU time as the kernel accounts it
(os.wait4: the process and the children it waited for), and the peak of the memory it and its children held
together (memory.py), so no measurement inherits another's memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from benchmarks.memory import TreeMemory

PYTHON = sys.executable


@dataclass
class Run:
    """What one process cost: wall and CPU seconds, peak memory (of it and its children together; where that
    cannot be sampled, of its largest process), how it exited, and its last output."""

    seconds: float
    cpu_seconds: float
    peak_mib: float
    exit: int
    output: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    largest_process_mib: float | None = None  # the kernel's peak: that of the largest single process

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(data.pop("details"))
        if self.exit == 0:
            data.pop("output")  # kept only to say why a run failed
        return {key: round(value, 3) if isinstance(value, float) else value for key, value in data.items()}


def _usage(pid: int, *, block: bool = True) -> tuple[int, float, float] | None:
    """Reap `pid`: its exit code, CPU seconds and its largest process's peak memory in MiB (ru_maxrss is KiB on
    Linux); None while it is still running (only when not `block`)."""
    reaped, status, usage = os.wait4(pid, 0 if block else os.WNOHANG)
    if not reaped:
        return None
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _stop(process: subprocess.Popen[bytes]) -> tuple[int, float, float]:
    """SIGINT (uvicorn's clean stop), then SIGKILL if it is still running 20 seconds later."""
    process.send_signal(signal.SIGINT)
    deadline = time.monotonic() + 20
    while (usage := _usage(process.pid, block=False)) is None:
        if time.monotonic() > deadline:
            process.kill()
            deadline = float("inf")
        time.sleep(0.05)
    return usage


def measure(command: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `command` to its end in a fresh process and measure it. Its output goes to a file, not a pipe, so a
    talkative process never blocks on a full pipe while it is measured."""
    with tempfile.TemporaryFile() as output:
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=output, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
        with TreeMemory(process.pid) as memory:
            code, cpu, largest = _usage(process.pid) or (-1, 0.0, 0.0)
            seconds = time.perf_counter() - start  # not counting the end of a sample under way
        process.returncode = code  # reaped by wait4; tell Popen so it does not wait again
        output.seek(0)
        text = output.read().decode("utf-8", "replace")
    return _run(seconds, cpu, memory, largest, code, text[-2000:])


def _run(seconds: float, cpu: float, memory: TreeMemory, largest: float, code: int, output: str = "") -> Run:
    peak = memory.peak_mib
    return Run(seconds, cpu, largest if peak is None else peak, code, output, largest_process_mib=largest)


@dataclass
class Server:
    """A server process started by `running`; its cost is filled in once it has stopped."""

    base: str
    process: subprocess.Popen[bytes]
    run: Run | None = None


@contextmanager
def running(command: list[str], port: int, *, env: dict[str, str] | None = None) -> Iterator[Server]:
    """A server on 127.0.0.1:`port` for the time of the block, measured once stopped (server.run)."""
    with tempfile.TemporaryFile() as log:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env)
        server = Server(f"http://127.0.0.1:{port}", process)
        # seldom: the sampling thread shares this process with the load client, whose latencies are measured
        with TreeMemory(process.pid, every=1.0) as memory:
            try:
                _wait_until_ready(server, log)
                yield server
            finally:
                if process.returncode is None:
                    code, cpu, largest = _stop(process)
                    process.returncode = code
                    server.run = _run(time.perf_counter() - start, cpu, memory, largest, code)


def _wait_until_ready(server: Server, log: IO[bytes], path: str = "/-/versions.json") -> None:
    import httpx  # only the serving benchmark needs it

    deadline = time.monotonic() + 120
    while True:
        if server.process.poll() is not None:
            log.seek(0)
            raise RuntimeError(f"the server exited: {log.read().decode('utf-8', 'replace')[-2000:]}")
        try:
            if httpx.get(server.base + path, timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not answer within two minutes")
        time.sleep(0.2)


def free_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
