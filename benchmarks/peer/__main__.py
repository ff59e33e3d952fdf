"""Side by side: task-gateway against Hive Gateway (over Mesh Compose) and Tailcall 1.0
on the same upstream.

`make bench-peer` (or `python -m benchmarks.peer`). Each gateway is pinned to one CPU;
the Invoiced sandbox and autocannon share the other. Runs alternate A B C: 10 tasks x 5
fields at c=10 and c=50, then 100 tasks x 12 fields at c=10, then with +50 and +200 ms
added to every upstream call at c=50 and c=200. Each run prints req/s, p50/p99, the
gateway's CPU seconds per 1,000 requests and its RSS; then a summary gives task-gateway's
median per row and its ratio to each other gateway, and at each added latency whether
task-gateway reached the lower of its CPU-bound figure and the vendor's limit.

Then a soak: 50,000 more requests to task-gateway, printing its RSS after each fifth,
to show memory stays flat.

The default run takes about nine minutes; ``--quick`` about three. Longer runs:
``--duration`` and ``--pairs``, or BENCH_PEER_DURATION and BENCH_PEER_PAIRS; ``--soak 0``
skips the soak.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from benchmarks.latency import set_latency
from benchmarks.peer.contenders import (
    SMALL,
    WIDE,
    Contender,
    compose_supergraph,
    expected_rows,
    fill_to,
    hive_gateway,
    sandbox,
    task_gateway,
    verified,
)
from benchmarks.peer.load import Run, measure, soak
from benchmarks.peer.procs import Pinned, two_cpus
from benchmarks.peer.report import (
    HEADER,
    OURS,
    Row,
    bound_verdict,
    cpu_ms_per_request,
    median_of,
    p50_ms,
    req_per_s,
    run_line,
    summary,
)
from benchmarks.peer.tailcall import tailcall
from gateway.vendors.invoiced.sandbox.app import MAX_CONCURRENT

WARM_UP_SECONDS = 5.0
# Added to every upstream call, and the concurrencies run there: enough connections that
# the client (each waiting out the latency) could send more than any gateway serves.
LATENCIES_MS = (50.0, 200.0)
LATENCY_CONNECTIONS = (50, 200)
# A wide answer is measured at one concurrency: it costs the gateway, not the upstream.
WIDE_CONNECTIONS = 10


def main() -> None:
    options = _options()
    # SIGTERM unwinds like Ctrl-C, so every `with` below ends its process; SIGINT is set
    # too, as a shell starting this in the background would have it ignored.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _interrupt)
    gateway_cpu, other_cpu = two_cpus()
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bench-peer-") as tmp:
        workdir = Path(tmp)
        with sandbox(other_cpu, workdir) as (upstream, upstream_url, invoiced):
            fill_to(invoiced, WIDE.tasks)
            small_rows, wide_rows = expected_rows(invoiced, SMALL), expected_rows(invoiced, WIDE)
            supergraph = compose_supergraph(invoiced, workdir)
            with (
                task_gateway(gateway_cpu, invoiced, workdir) as ours,
                hive_gateway(gateway_cpu, supergraph, workdir) as hive,
                tailcall(gateway_cpu, invoiced, workdir) as tail,
            ):
                gateways = (ours, hive, tail)
                small = [verified(gateway, SMALL, small_rows) for gateway in gateways]
                wide = [verified(gateway, WIDE, wide_rows) for gateway in gateways]
                print(
                    f"same upstream: Invoiced sandbox pid {upstream.pid} on CPU {other_cpu} "
                    f"with autocannon; gateways on CPU {gateway_cpu}; all three answered the "
                    f"same first {SMALL.tasks} and {WIDE.tasks} tasks; every answer under load "
                    f"is checked byte for byte"
                )
                bench = _Bench(upstream, upstream_url, options, other_cpu, workdir)
                runs = bench.everything(small, wide)
                _report(runs, options.connections)
                if options.soak:
                    _soak(small[0], upstream, options.soak, other_cpu, workdir)
    print(f"benchmarks.peer took {time.monotonic() - began:.0f} s")


@dataclass
class _Bench:
    upstream: Pinned
    upstream_url: str
    options: argparse.Namespace
    cpu: int
    workdir: Path

    def everything(self, small: Sequence[Contender], wide: Sequence[Contender]) -> list[Run]:
        warm_up = self.options.duration / 2
        for contender in small:  # JIT, pools and caches warmed, not measured
            self._measure(contender, 10, WARM_UP_SECONDS)
        print(HEADER)
        runs = []
        for connections in self.options.connections:
            runs += self._alternate(small, connections, self.options.pairs)
        for contender in wide:
            self._measure(contender, WIDE_CONNECTIONS, warm_up)
        runs += self._alternate(wide, WIDE_CONNECTIONS, self.options.pairs)
        try:
            for latency_ms in LATENCIES_MS:
                set_latency(self.upstream_url, latency_ms)
                for contender in small:  # connections opened at this latency, not measured
                    self._measure(contender, max(LATENCY_CONNECTIONS), warm_up, latency_ms)
                for connections in LATENCY_CONNECTIONS:
                    # Bound by the latency, not by the machine: one run each.
                    runs += self._alternate(small, connections, 1, latency_ms)
        finally:
            set_latency(self.upstream_url, 0)
        return runs

    def _alternate(
        self, contenders: Sequence[Contender], connections: int, pairs: int, latency_ms: float = 0
    ) -> list[Run]:
        runs = []
        for _ in range(pairs):
            for contender in contenders:
                run = self._measure(contender, connections, self.options.duration, latency_ms)
                print(run_line(run), flush=True)
                runs.append(run)
        return runs

    def _measure(
        self, contender: Contender, connections: int, seconds: float, latency_ms: float = 0
    ) -> Run:
        return measure(
            contender,
            self.upstream,
            connections=connections,
            seconds=seconds,
            cpu=self.cpu,
            workdir=self.workdir,
            upstream_url=self.upstream_url,
            latency_ms=latency_ms,
        )


OTHERS = ("hive-gateway", "tailcall")


def summary_rows(concurrencies: Sequence[int]) -> list[Row]:
    busiest = max(concurrencies)
    rows = [Row(f"req/s c={c}", SMALL.label, 0, c, req_per_s, "") for c in concurrencies]
    rows.append(
        Row(f"CPU ms/request c={busiest}", SMALL.label, 0, busiest, cpu_ms_per_request, "ms")
    )
    wide = f"{WIDE.tasks} tasks x {WIDE.fields} fields c={WIDE_CONNECTIONS}"
    rows.append(Row(f"{wide} p50", WIDE.label, 0, WIDE_CONNECTIONS, p50_ms, "ms"))
    rows.append(Row(f"{wide} req/s", WIDE.label, 0, WIDE_CONNECTIONS, req_per_s, ""))
    for latency_ms in LATENCIES_MS:
        for c in LATENCY_CONNECTIONS:
            at = f"+{latency_ms:g} ms c={c}"
            rows.append(Row(f"{at} req/s", SMALL.label, latency_ms, c, req_per_s, ""))
            rows.append(
                Row(f"{at} CPU ms/request", SMALL.label, latency_ms, c, cpu_ms_per_request, "ms")
            )
    return rows


def _report(runs: Sequence[Run], concurrencies: Sequence[int]) -> None:
    print(f"\n{OURS}'s medians, and its ratio to each (req/s: above x1 is better; CPU and "
          "time: below x1 is better)")  # fmt: skip
    print("\n".join(summary(runs, summary_rows(concurrencies), OTHERS)))
    busiest = max(concurrencies)
    cpu_bound = median_of(runs, OURS, Row("", SMALL.label, 0, busiest, req_per_s, ""))
    lowest = min(LATENCY_CONNECTIONS)
    print(
        f"\nAdded latency: c={lowest} and c={max(LATENCY_CONNECTIONS)}, so the client (each "
        f"connection waiting out the latency) could send {lowest} / latency req/s or more, "
        f"above what any gateway served; {OURS}'s vendor pool holds {MAX_CONCURRENT} calls "
        f"in flight (INVOICED_MAX_CONNECTIONS, default {MAX_CONCURRENT}, as Invoiced allows)"
    )
    for run in runs:
        if run.failed:
            at = f"+{run.latency_ms:g} ms c={run.connections}"
            print(f"  {run.gateway} at {at}: {run.failed} of {run.requests} answers failed "
                  f"(the sandbox refuses calls beyond {MAX_CONCURRENT} in flight, as Invoiced "
                  "does); req/s counts right answers only")  # fmt: skip
        if run.latency_ms and run.per_second >= 0.9 * run.client_bound:
            at = f"+{run.latency_ms:g} ms c={run.connections}"
            print(f"  {run.gateway} at {at} was bound by the client")
    for latency_ms in LATENCIES_MS:
        for connections in LATENCY_CONNECTIONS:
            print(bound_verdict(runs, latency_ms, connections, cpu_bound or 0, MAX_CONCURRENT))


SOAK_CHUNKS = 5


def _soak(contender: Contender, upstream: Pinned, requests: int, cpu: int, workdir: Path) -> None:
    started = time.monotonic()
    rss = soak(contender, upstream, requests=requests, chunks=SOAK_CHUNKS, cpu=cpu, workdir=workdir)
    growth = (rss[-1] - rss[0]) / rss[0]
    series = " -> ".join(f"{value:.1f}" for value in rss)
    verdict = "flat (within 10%)" if abs(growth) <= 0.10 else "NOT flat"
    print(
        f"\n{contender.name} RSS over {requests:,} more requests after warm-up, MiB: {series} "
        f"({growth:+.1%}, {verdict}; {time.monotonic() - started:.0f} s)"
    )


QUICK_DURATION = 4.0


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer", description=__doc__)
    parser.add_argument(
        "--duration",
        type=float,
        default=float(os.environ.get("BENCH_PEER_DURATION", "10")),
        help="seconds per measured run (default 10, or BENCH_PEER_DURATION)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=int(os.environ.get("BENCH_PEER_PAIRS", "2")),
        help="A B C rounds per concurrency without added latency (default 2, or BENCH_PEER_PAIRS)",
    )
    parser.add_argument(
        "--soak",
        type=int,
        default=int(os.environ.get("BENCH_PEER_SOAK", "50000")),
        help="requests sent to task-gateway after the pairs, watching its RSS (default "
        "50000, or BENCH_PEER_SOAK; 0 skips it)",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_DURATION:g} s runs, one round each, no soak (about three minutes)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[10, 50],
        help="concurrencies to run (default 10 50)",
    )
    options = parser.parse_args()
    if options.quick:
        options.duration, options.pairs, options.soak = QUICK_DURATION, 1, 0
    if options.duration <= 0 or options.pairs < 1 or min(options.connections) < 1:
        parser.error("--duration, --pairs and --connections must be positive")
    if options.soak < 0:
        parser.error("--soak must not be negative")
    return options


def _interrupt(signum: int, frame: FrameType | None) -> None:
    # A second Ctrl-C must not cut the cleanup short.
    for ignored in (signal.SIGINT, signal.SIGTERM):
        signal.signal(ignored, signal.SIG_IGN)
    raise KeyboardInterrupt


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        raise SystemExit("benchmarks.peer interrupted; its processes were ended") from None
