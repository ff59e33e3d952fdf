"""One measured run: autocannon against one gateway, and what it cost the gateway.

autocannon runs as its own process on the upstream's CPU, not the gateway's, and
checks every answer byte for byte against the verified one: a run with any error,
timeout, non-2xx status or other answer is refused rather than reported.
"""

from __future__ import annotations

import resource
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from benchmarks.latency import vendor_answers
from benchmarks.peer.contenders import NODE_BIN, Contender
from benchmarks.peer.procs import Pinned, end


@dataclass(frozen=True)
class Run:
    gateway: str
    connections: int
    # What each request asked for ("10x5": 10 tasks x 5 fields) and the delay added to
    # every upstream call, in milliseconds.
    shape: str
    latency_ms: float
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    gateway_cpu_s: float
    rss_mib: float
    # Share of one CPU used: near 100% on the gateway's means the gateway is the limit;
    # near 100% on the other CPU (sandbox + autocannon) means the figure is capped there.
    gateway_busy: float
    other_busy: float
    # Answers that were errors, timeouts, non-2xx or not the expected body.
    failed: int = 0
    # Calls the upstream answered during the run: one a request when nothing is shared
    # between requests (the warm-up and autocannon's last answers blur it a little).
    upstream_calls: int = 0
    # Seconds those calls took at the upstream, delay and sandbox together.
    upstream_seconds: float = 0.0

    @property
    def per_second(self) -> float:
        """Right answers a second: a refused or wrong answer served nobody."""
        return (self.requests - self.failed) / self.seconds

    @property
    def cpu_per_1000(self) -> float:
        return self.gateway_cpu_s / self.requests * 1000

    @property
    def calls_per_request(self) -> float:
        return self.upstream_calls / self.requests

    @property
    def vendor_answer_ms(self) -> float:
        """How long the vendor took to answer a call on average (0: no calls)."""
        return self.upstream_seconds / self.upstream_calls * 1000 if self.upstream_calls else 0.0

    @property
    def client_bound(self) -> float:
        """The most req/s the client could send: each connection waits for its answer,
        which takes at least the added upstream latency."""
        return self.connections / (self.latency_ms / 1000) if self.latency_ms else float("inf")


MAX_FAILED_SHARE = 0.001
# autocannon's default of 10 s would count as failed the requests that wait their turn
# for a vendor connection: at c=200 behind a pool of 20 and a slow upstream, a request
# waits for about ten calls ahead of it on its connection, which is not a failure.
ANSWER_TIMEOUT_S = 30


def measure(
    contender: Contender,
    upstream: Pinned,
    *,
    connections: int,
    seconds: float,
    cpu: int,
    workdir: Path,
    upstream_url: str,
    latency_ms: float = 0.0,
) -> Run:
    """One run; with ``latency_ms``, failed answers are counted rather than fatal: a
    gateway that keeps more calls in flight than the vendor allows gets refusals."""
    calls_before, seconds_before = vendor_answers(upstream_url)
    gateway_before, upstream_before = contender.process.cpu_seconds(), upstream.cpu_seconds()
    children_before = _children_cpu()
    result = _autocannon(contender, connections, seconds, cpu, workdir)
    gateway_cpu = contender.process.cpu_seconds() - gateway_before
    loadgen_cpu = _children_cpu() - children_before
    upstream_cpu = upstream.cpu_seconds() - upstream_before
    calls_after, seconds_after = vendor_answers(upstream_url)
    calls = calls_after - calls_before
    for gone in (contender.process, upstream):
        if not gone.alive():
            raise SystemExit(f"{gone.name} exited during the run:\n{gone.log_tail()}")
    failures = {key: result[key] for key in ("errors", "timeouts", "non2xx", "mismatches")}
    total = result["requests"]["total"]
    # A stray bad answer is counted and shown; more than one in a thousand would make
    # the figure meaningless (errors are cheap to serve), so the run stops there.
    too_many = sum(failures.values()) > total * MAX_FAILED_SHARE
    if not total or (too_many and not latency_ms):
        raise SystemExit(f"{contender.name} at c={connections} failed: {failures}")
    return Run(
        gateway=contender.name,
        connections=connections,
        shape=contender.shape.label,
        latency_ms=latency_ms,
        requests=result["requests"]["total"],
        seconds=result["duration"],
        p50_ms=result["latency"]["p50"],
        p99_ms=result["latency"]["p99"],
        gateway_cpu_s=gateway_cpu,
        rss_mib=contender.process.rss_mib(),
        # Over the load's own duration: outside it (autocannon starting) both sides idle,
        # but the sandbox and autocannon's start-up are counted, so "other" reads high.
        gateway_busy=gateway_cpu / result["duration"],
        other_busy=(upstream_cpu + loadgen_cpu) / result["duration"],
        failed=sum(failures.values()),
        upstream_calls=calls,
        upstream_seconds=seconds_after - seconds_before,
    )


def soak(
    contender: Contender, upstream: Pinned, *, requests: int, chunks: int, cpu: int, workdir: Path
) -> list[float]:
    """The gateway's RSS (MiB) before and after each of ``chunks`` runs that together
    send ``requests`` requests at c=50, every answer checked as in :func:`measure`."""
    rss = [contender.process.rss_mib()]
    for _ in range(chunks):
        result = _autocannon(contender, 50, 0, cpu, workdir, amount=requests // chunks)
        failures = {key: result[key] for key in ("errors", "timeouts", "non2xx", "mismatches")}
        too_many = sum(failures.values()) > result["requests"]["total"] * MAX_FAILED_SHARE
        if too_many or not upstream.alive() or not contender.process.alive():
            raise SystemExit(f"{contender.name} failed during the soak: {failures}")
        rss.append(contender.process.rss_mib())
    return rss


def _autocannon(
    contender: Contender,
    connections: int,
    seconds: float,
    cpu: int,
    workdir: Path,
    *,
    amount: int | None = None,
) -> dict[str, Any]:
    output = workdir / f"autocannon-{contender.name}-{contender.shape.label}-c{connections}.json"
    # A run is either so many seconds or so many requests (at no less than 100 a second).
    extent = ["--amount", str(amount)] if amount else ["--duration", f"{seconds:g}"]
    limit = amount / 100 if amount else seconds
    command = [
        "taskset", "--cpu-list", str(cpu), str(NODE_BIN / "autocannon"),
        "--json", "--no-progress",
        "--connections", str(connections), *extent, "--timeout", str(ANSWER_TIMEOUT_S),
        "--method", "POST", "--headers", "content-type=application/json",
        "--body", contender.body.decode(), "--expectBody", contender.expected_answer,
        contender.url,
    ]  # fmt: skip
    with output.open("wb") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            # Bounded: autocannon's own duration plus time to start and to drain.
            process.wait(timeout=limit + 60)
        except subprocess.TimeoutExpired:
            raise SystemExit(f"autocannon against {contender.name} did not finish") from None
        finally:
            end(process)
    if process.returncode != 0:
        raise SystemExit(f"autocannon against {contender.name} exited {process.returncode}")
    result: dict[str, Any] = orjson.loads(output.read_bytes())
    return result


def _children_cpu() -> float:
    # autocannon's CPU: it is a reaped child of this process by the time this is read.
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime
