"""One capacity step's figures, from what the users saw, the changes made and the vendor calls."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

# The vendors' calls include refusals: a 429 still costs a call of the quota.
REFUSED = " 429"


def percentile(values: Sequence[float], share: float) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def _counts(counts: Counter[str]) -> str:
    return ", ".join(f"{reason} {n}" for reason, n in counts.most_common()) or "none"


@dataclass(frozen=True)
class Staleness:
    """Seconds from a change to the first answer (or event) that showed it."""

    delays: list[float]
    changes: int

    def text(self) -> str:
        if not self.changes:
            return "no changes"
        if not self.delays:
            return f"none seen (0/{self.changes})"
        return (f"{percentile(self.delays, 0.5):.1f}/{percentile(self.delays, 0.95):.1f} s "
                f"({len(self.delays)}/{self.changes})")  # fmt: skip


@dataclass(frozen=True)
class Step:
    users: int
    seconds: float
    requests: int
    latencies_ms: list[float]
    errors: Counter[str]
    vendor_calls: Counter[str]
    staleness: dict[str, Staleness] = field(default_factory=dict)
    subscribed: int = 0
    failed_changes: Counter[str] = field(default_factory=Counter)  # by reason
    # "<vendor> <METHOD> <path>" -> calls, when asked for (--routes).
    routes: Counter[str] = field(default_factory=Counter)

    @property
    def calls(self) -> int:
        return sum(self.vendor_calls.values())

    @property
    def calls_per_minute(self) -> float:
        return self.calls * 60 / self.seconds

    def row(self) -> str:
        errors = _counts(self.errors)
        refused = sum(n for key, n in self.vendor_calls.items() if key.endswith(REFUSED))
        latency = (
            f"p50 {percentile(self.latencies_ms, 0.5):.0f} ms p95 "
            f"{percentile(self.latencies_ms, 0.95):.0f} ms"
            if self.latencies_ms
            else "no answers"
        )
        stale = "".join(
            f"\n          {name}: {figure.text()}" for name, figure in self.staleness.items()
        )
        by_vendor = Counter[str]()
        for key, calls in self.vendor_calls.items():
            by_vendor[key.split()[0]] += calls
        each = ", ".join(f"{vendor} {calls * 60 / self.seconds:.0f}"
                         for vendor, calls in sorted(by_vendor.items()))  # fmt: skip
        routes = "".join(
            f"\n          {calls * 60 / self.seconds:6.1f}/min  {route}"
            for route, calls in self.routes.most_common()
        )
        return (
            f"N={self.users:<5} {self.requests} requests  {latency}  errors: {errors}\n"
            f"        vendor calls {self.calls_per_minute:.0f}/min ({each}; "
            f"{self.calls_per_minute / self.users:.2f}/user-min, {refused} refused with 429)\n"
            f"        staleness p50/p95 ({self.subscribed} subscribers; changes failed: "
            f"{_counts(self.failed_changes)}):{stale}{routes}"
        )


def staleness(
    changes: list[dict[str, Any]], how: str, items: dict[str, list[list[Any]]],
    events: dict[str, list[float]],
) -> tuple[Staleness, Staleness]:  # fmt: skip
    """(polling, subscribed) for the changes made ``how``: the first sample showing the
    new value, the first event about the item, each at or after the change was sent."""
    made = [change for change in changes if change["how"] == how]
    polled, pushed = [], []
    for change in made:
        column = 1 if change["field"] == "title" else 2
        shown = [s[0] for s in items.get(change["id"], [])
                 if s[0] >= change["sent"] and s[column] == change["value"]]  # fmt: skip
        if shown:
            polled.append(max(0.0, shown[0] - change["at"]))
        told = [at for at in events.get(change["id"], []) if at >= change["sent"]]
        if told:
            pushed.append(max(0.0, told[0] - change["at"]))
    return Staleness(polled, len(made)), Staleness(pushed, len(made))


def step_figures(users: int, seconds: float, seen: dict[str, Any], changes: dict[str, Any],
                 vendor_calls: Counter[str]) -> Step:  # fmt: skip
    found: dict[str, Staleness] = {}
    for how, label in (("behind", "behind the back"), ("through", "through the gateway")):
        polled, pushed = staleness(changes["made"], how, seen["items"], seen["events"])
        found[f"{label}, polling"] = polled
        found[f"{label}, subscribed"] = pushed
    return Step(
        users=users,
        seconds=seconds,
        requests=len(seen["latencies_ms"]),
        latencies_ms=seen["latencies_ms"],
        errors=Counter(seen["errors"]),
        vendor_calls=vendor_calls,
        staleness=found,
        subscribed=seen["subscribed"],
        failed_changes=Counter(changes["failed"]),
    )


def summary(steps: list[Step]) -> str:
    """The largest N with no errors, and the vendor calls a minute from the first N to it
    (to the largest N run when no N after the first is free of errors)."""
    clean = [step for step in steps if not step.errors]
    largest = max(clean, key=lambda step: step.users) if clean else None
    lines = [f"largest N with no errors: {largest.users if largest else 'none'}"]
    first = steps[0]
    last = largest if largest is not None and largest is not first else steps[-1]
    if last is not first:
        ratio = last.calls_per_minute / max(first.calls_per_minute, 1e-9)
        verdict = "within" if abs(ratio - 1) <= 0.2 else "not within"
        lines.append(
            f"vendor calls/min N={first.users} -> N={last.users}: {first.calls_per_minute:.0f} "
            f"-> {last.calls_per_minute:.0f} (x{ratio:.2f}, {verdict} 20%)"
        )
    return "\n".join(lines)
