"""What the runs add up to: one line per run, then task-gateway's figure per row with its
ratio to each other gateway.

Ratios are task-gateway's figure over the other's, each the median of the runs of that
row: above 1 is better for req/s, below 1 is better for CPU per request and response time.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from benchmarks.peer.load import Run

OURS = "task-gateway"
# Within this share of a bound, throughput counts as having reached it.
NEAR = 0.10

HEADER = (
    f"{'gateway':<13} {'shape':>6} {'+ms':>4} {'c':>3} {'req/s':>8} {'p50 ms':>7} "
    f"{'p99 ms':>7} {'CPU s/1k':>9} {'RSS MiB':>8} {'gw CPU':>7} {'other CPU':>9} "
    f"{'failed':>6} {'calls/req':>9} {'vendor ms':>9}"
)


def run_line(run: Run) -> str:
    return (
        f"{run.gateway:<13} {run.shape:>6} {run.latency_ms:>4g} {run.connections:>3} "
        f"{run.per_second:>8.1f} {run.p50_ms:>7.1f} {run.p99_ms:>7.1f} "
        f"{run.cpu_per_1000:>9.2f} {run.rss_mib:>8.1f} {run.gateway_busy:>6.0%} "
        f"{run.other_busy:>9.0%} {run.failed:>6} {run.calls_per_request:>9.2f} "
        f"{run.vendor_answer_ms:>9.1f}"
    )


@dataclass(frozen=True)
class Row:
    """One line of the summary: which runs, and which figure of them."""

    title: str
    shape: str
    latency_ms: float
    connections: int
    figure: Callable[[Run], float]
    unit: str


def req_per_s(run: Run) -> float:
    return run.per_second


def cpu_ms_per_request(run: Run) -> float:
    return run.cpu_per_1000  # CPU s per 1,000 requests is CPU ms per request


def p50_ms(run: Run) -> float:
    return run.p50_ms


def vendor_answer_ms(run: Run) -> float:
    return run.vendor_answer_ms


def median_of(runs: Sequence[Run], gateway: str, row: Row) -> float | None:
    picked = [
        row.figure(run)
        for run in runs
        if run.gateway == gateway
        and run.shape == row.shape
        and run.latency_ms == row.latency_ms
        and run.connections == row.connections
    ]
    return statistics.median(picked) if picked else None


def summary(runs: Sequence[Run], rows: Sequence[Row], others: Sequence[str]) -> list[str]:
    """task-gateway's median per row and its ratio to each of ``others``."""
    head = f"{'row':<34} {OURS:>12} " + " ".join(f"{'/' + name:>14}" for name in others)
    lines = [head]
    for row in rows:
        ours = median_of(runs, OURS, row)
        if ours is None:
            continue
        ratios = []
        for name in others:
            theirs = median_of(runs, name, row)
            ratios.append(f"{'x' + format(ours / theirs, '.2f') if theirs else '-':>14}")
        figure = f"{ours:.1f} {row.unit}"
        lines.append(f"{row.title:<34} {figure:>12} " + " ".join(ratios))
    return lines


def bound_verdict(
    runs: Sequence[Run], latency_ms: float, connections: int, cpu_bound: float, in_flight: int
) -> str:
    """Whether task-gateway's throughput at this latency is within :data:`NEAR` of the
    lower of its CPU-bound figure and the vendor's limit: ``in_flight`` calls at once,
    each holding its connection for as long as the vendor took to answer it (the added
    latency and the sandbox's own time, measured at the upstream in the same runs)."""
    row = Row("", "10x5", latency_ms, connections, req_per_s, "")
    ours = median_of(runs, OURS, row)
    answer_ms = median_of(runs, OURS, replace(row, figure=vendor_answer_ms)) or latency_ms
    if ours is None:
        return ""
    vendor_limit = in_flight / (max(answer_ms, latency_ms) / 1000)
    limit, which = min((cpu_bound, "its CPU-bound figure"), (vendor_limit, "the vendor limit"))
    reached = ours >= limit * (1 - NEAR)
    return (
        f"+{latency_ms:g} ms c={connections}: {OURS} {ours:.0f} req/s; bounds: CPU "
        f"{cpu_bound:.0f}, vendor {in_flight} in flight / {answer_ms:.1f} ms answered "
        f"(the added {latency_ms:g} ms and the sandbox's own) = {vendor_limit:.0f} "
        f"({in_flight / (latency_ms / 1000):.0f} at the added latency alone), client "
        f"{connections} / {latency_ms:g} ms = {connections / (latency_ms / 1000):.0f} -> "
        + (f"within {NEAR:.0%} of {which}" if reached else f"NOT within {NEAR:.0%} of {which}")
    )
