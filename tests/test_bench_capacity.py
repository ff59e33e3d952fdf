"""`make bench-capacity`'s machinery end to end, tiny: real sandboxes, redis-server, gateway,
users and changer processes for a few seconds. Figures are not checked, only their shape."""

from __future__ import annotations

import re

import pytest

from benchmarks.capacity.__main__ import main

ROW = re.compile(
    r"^N=3 +\d+ requests  p50 \d+ ms p95 \d+ ms  errors: .+\n"
    r" +vendor calls \d+/min \(([a-z]+ \d+(, )?)+; [\d.]+/user-min, \d+ refused with 429\)\n"
    r" +staleness p50/p95 \(\d+ subscribers; changes failed: .+\):\n"
    r"( +(behind the back|through the gateway), (polling|subscribed): .+\n){4}",
    re.MULTILINE,
)


def test_a_tiny_run_prints_a_row_and_counts_the_calls_at_the_sandboxes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["--users", "3", "--duration", "6", "--workers", "1", "--latency-ms", "0",
            "--subscribers", "0.34", "--routes"]  # fmt: skip
    [step] = main(argv)
    printed = capsys.readouterr().out
    assert ROW.search(printed), printed
    assert step.requests > 0 and step.subscribed == 1
    # Counted at the sandboxes, by vendor and status (the users' by-id reads and the
    # changer's mutation reach the vendors whatever the gateway has cached).
    assert step.calls > 0
    assert all(re.fullmatch(r"[a-z]+ \d{3}", key) for key in step.vendor_calls)
    assert "largest N with no errors: " in printed
    # --routes: the same calls by route, each printed a minute.
    assert sum(step.routes.values()) == step.calls
    assert all(re.fullmatch(r"[a-z]+ [A-Z]+ /\S*", route) for route in step.routes)
    assert re.search(r"^ +\d+\.\d/min  [a-z]+ [A-Z]+ /", printed, re.MULTILINE), printed
