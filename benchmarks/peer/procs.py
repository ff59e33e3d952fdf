"""Processes pinned to one CPU, always ended, and what /proc says they cost.

Every process starts under ``taskset`` (so each of its threads inherits the CPU)
in a session of its own: a Ctrl-C in the terminal reaches only the driver, whose
cleanup then ends each process group, first politely, then with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_BYTES = os.sysconf("SC_PAGE_SIZE")


def two_cpus() -> tuple[int, int]:
    """The gateway's CPU and the one the upstream and load generator share."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("benchmarks.peer needs two CPUs: one for the gateway, one for the rest")
    return cpus[0], cpus[1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Pinned:
    """A running process (and whatever it forks), its CPU and its log file."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 15) -> str:
        try:
            text = self.log.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def cpu_seconds(self) -> float:
        """User plus system CPU of the process and its live descendants."""
        return sum(_stat_fields(pid)[0] for pid in _tree(self.pid)) / CLOCK_TICKS

    def rss_mib(self) -> float:
        return sum(_stat_fields(pid)[1] for pid in _tree(self.pid)) * PAGE_BYTES / 2**20


@contextmanager
def pinned(
    name: str,
    command: Sequence[str],
    *,
    cpu: int,
    env: Mapping[str, str],
    log: Path,
    cwd: Path | None = None,
) -> Iterator[Pinned]:
    with log.open("wb") as sink:
        process = subprocess.Popen(
            ["taskset", "--cpu-list", str(cpu), *command],
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=dict(env),
            cwd=cwd,
            start_new_session=True,
        )
    try:
        yield Pinned(name, process, log)
    finally:
        end(process)


def end(process: subprocess.Popen[bytes], grace: float = 5.0) -> None:
    """End the process group: SIGTERM, then SIGKILL after ``grace`` seconds."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, grace)):
        if process.poll() is not None:
            break
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
    # Children that outlived their parent are still in its group.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)


def _stat_fields(pid: int) -> tuple[int, int]:
    """(utime + stime in clock ticks, resident pages) of one process; zeros once it is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0, 0
    # The command name is in parentheses and may hold spaces: read after its last ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    # Fields 14, 15 and 24 of proc(5), counted here from field 3 (state).
    return int(fields[11]) + int(fields[12]), int(fields[21])


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(raw[raw.rindex(")") + 2 :].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(parents.get(pid, []))
    return found


def wait_until(ready: Pinned, check: Callable[[], bool], timeout: float = 60.0) -> None:
    """Poll ``check()`` until it returns true, failing early if the process died."""
    deadline = time.monotonic() + timeout
    while True:
        if not ready.alive():
            raise SystemExit(f"{ready.name} exited during start-up:\n{ready.log_tail()}")
        if check():
            return
        if time.monotonic() > deadline:
            raise SystemExit(f"{ready.name} did not answer in {timeout:.0f} s:\n{ready.log_tail()}")
        time.sleep(0.2)
