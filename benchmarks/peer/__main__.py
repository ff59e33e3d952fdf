"""Side by side: task-gateway against GraphQL Mesh + Hive Gateway on the same upstream.

`make bench-peer` (or `python -m benchmarks.peer`). Each gateway is pinned to one CPU;
the Invoiced sandbox and autocannon share the other. Runs alternate A B A B at each
concurrency, and each run prints req/s, p50/p99, the gateway's CPU seconds per
1,000 requests and its RSS, then the median ratio task-gateway/Hive.

Then a soak: 100,000 more requests to task-gateway, printing its RSS after each fifth,
to show memory stays flat.

The default run takes about six minutes. Longer runs: ``--duration`` and ``--pairs``,
or BENCH_PEER_DURATION and BENCH_PEER_PAIRS; ``--soak 0`` skips the soak.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from benchmarks.peer.contenders import (
    Contender,
    compose_supergraph,
    expected_rows,
    hive_gateway,
    sandbox,
    task_gateway,
    verified,
)
from benchmarks.peer.load import Run, measure, soak
from benchmarks.peer.procs import Pinned, two_cpus

WARM_UP_SECONDS = 5.0


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
        with sandbox(other_cpu, workdir) as (upstream, invoiced):
            expected = expected_rows(invoiced)
            supergraph = compose_supergraph(invoiced, workdir)
            with (
                task_gateway(gateway_cpu, invoiced, workdir) as ours,
                hive_gateway(gateway_cpu, supergraph, workdir) as hive,
            ):
                contenders = [verified(ours, expected), verified(hive, expected)]
                print(
                    f"same upstream: Invoiced sandbox pid {upstream.pid} on CPU {other_cpu} "
                    f"with autocannon; gateways on CPU {gateway_cpu}; both answered the same "
                    f"{len(expected)} tasks; every answer under load is checked byte for byte"
                )
                runs = _alternate(contenders, upstream, options, other_cpu, workdir)
                _ratios(runs, options.connections)
                if options.soak:
                    _soak(contenders[0], upstream, options.soak, other_cpu, workdir)
    print(f"benchmarks.peer took {time.monotonic() - began:.0f} s")


def _alternate(
    contenders: Sequence[Contender],
    upstream: Pinned,
    options: argparse.Namespace,
    cpu: int,
    workdir: Path,
) -> list[Run]:
    for contender in contenders:  # JIT, pools and caches warmed, not measured
        measure(
            contender, upstream, connections=10, seconds=WARM_UP_SECONDS, cpu=cpu, workdir=workdir
        )
    print(HEADER)
    runs = []
    for connections in options.connections:
        for _ in range(options.pairs):
            for contender in contenders:
                run = measure(
                    contender,
                    upstream,
                    connections=connections,
                    seconds=options.duration,
                    cpu=cpu,
                    workdir=workdir,
                )
                print(_row(run), flush=True)
                runs.append(run)
    return runs


HEADER = (
    f"{'gateway':<13} {'c':>3} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
    f"{'CPU s/1k':>9} {'RSS MiB':>8} {'gw CPU':>7} {'other CPU':>9} {'failed':>6}"
)


def _row(run: Run) -> str:
    return (
        f"{run.gateway:<13} {run.connections:>3} {run.per_second:>8.1f} {run.p50_ms:>7.1f} "
        f"{run.p99_ms:>7.1f} {run.cpu_per_1000:>9.2f} {run.rss_mib:>8.1f} "
        f"{run.gateway_busy:>6.0%} {run.other_busy:>9.0%} {run.failed:>6}"
    )


def _ratios(runs: Sequence[Run], concurrencies: Sequence[int]) -> None:
    print()
    for connections in concurrencies:
        ours = [r for r in runs if r.connections == connections and r.gateway == "task-gateway"]
        hive = [r for r in runs if r.connections == connections and r.gateway == "hive-gateway"]
        # Pairs ran back to back, so each pair's ratio shares the machine's state of the moment.
        pairs = list(zip(ours, hive, strict=True))
        speed = statistics.median(a.per_second / b.per_second for a, b in pairs)
        cpu = statistics.median(a.cpu_per_1000 / b.cpu_per_1000 for a, b in pairs)
        print(
            f"c={connections}: task-gateway/Hive median ratio: req/s x{speed:.2f}, "
            f"CPU per request x{cpu:.2f} "
            f"(medians {statistics.median(r.per_second for r in ours):.0f} vs "
            f"{statistics.median(r.per_second for r in hive):.0f} req/s, "
            f"{statistics.median(r.cpu_per_1000 for r in ours):.2f} vs "
            f"{statistics.median(r.cpu_per_1000 for r in hive):.2f} CPU s/1k)"
        )


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
        default=int(os.environ.get("BENCH_PEER_PAIRS", "3")),
        help="A B pairs per concurrency (default 3, or BENCH_PEER_PAIRS)",
    )
    parser.add_argument(
        "--soak",
        type=int,
        default=int(os.environ.get("BENCH_PEER_SOAK", "100000")),
        help="requests sent to task-gateway after the pairs, watching its RSS (default "
        "100000, or BENCH_PEER_SOAK; 0 skips it)",
    )
    parser.add_argument(
        "--connections",
        type=int,
        nargs="+",
        default=[10, 50],
        help="concurrencies to run (default 10 50)",
    )
    options = parser.parse_args()
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
