"""Prometheus metrics of one gateway app, in a registry of its own.

Each app has its own :class:`CollectorRegistry` (tests build many apps in one
process; the global registry would refuse the second). Vendors appear only as
label values taken from the adapters at run time.

Hot path: a request touches a few pre-bound children (label lookups cached in a
dict, so ``labels()`` and its lock run once per label set); breaker states and
process figures are read only when ``/metrics`` is scraped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, cast

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from gateway.upstream.breaker import BreakerState

if TYPE_CHECKING:
    from gateway.core.types import Vendor
    from gateway.upstream.breaker import CircuitBreaker

# Operation names come from clients (checked as plain names by the caller): only
# this many distinct ones become labels, so a client cannot grow the series.
MAX_OPERATION_NAMES = 200
OTHER_OPERATION = "other"
ANONYMOUS_OPERATION = "anonymous"

# Seconds: from a cached answer (milliseconds) to the operation time limit.
OPERATION_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
UPSTREAM_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)


class GatewayMetrics:
    def __init__(self, breakers: Callable[[], Iterable[CircuitBreaker]]) -> None:
        self.registry = CollectorRegistry()
        registry = self.registry
        self._operations = Counter(
            "gateway_operations",
            "GraphQL operations answered, by operation name and outcome.",
            ["operation", "outcome"],
            registry=registry,
        )
        self._operation_seconds = Histogram(
            "gateway_operation_duration_seconds",
            "Time from request to answer of a GraphQL operation, by operation name.",
            ["operation"],
            buckets=OPERATION_BUCKETS,
            registry=registry,
        )
        self._operation_errors = Counter(
            "gateway_operation_errors",
            "Errors in GraphQL answers, by extensions.code.",
            ["code"],
            registry=registry,
        )
        self._upstream = Counter(
            "gateway_upstream_requests",
            "Calls to vendors, by vendor and HTTP status (or timeout, unreachable, bad_response).",
            ["vendor", "status"],
            registry=registry,
        )
        self._upstream_seconds = Histogram(
            "gateway_upstream_duration_seconds",
            "Time of a call to a vendor, by vendor.",
            ["vendor"],
            buckets=UPSTREAM_BUCKETS,
            registry=registry,
        )
        self._breaker_refusals = Counter(
            "gateway_breaker_refusals",
            "Calls not made because the vendor's circuit breaker was open.",
            ["vendor"],
            registry=registry,
        )
        self._token_grants = Counter(
            "gateway_token_grants",
            "OAuth token grants and refreshes, by vendor and outcome "
            "(granted, refused, failed, held: refused moments ago and not asked again).",
            ["vendor", "outcome"],
            registry=registry,
        )
        registry.register(BreakerCollector(breakers))
        ProcessCollector(registry=registry)
        PlatformCollector(registry=registry)
        self._names: set[str] = set()
        self._children: dict[tuple[str, ...], Callable[..., None]] = {}

    def operation_label(self, name: str | None) -> str:
        if name is None:
            return ANONYMOUS_OPERATION
        if name in self._names:
            return name
        if len(self._names) >= MAX_OPERATION_NAMES:
            return OTHER_OPERATION
        self._names.add(name)
        return name

    def operation(
        self, name: str | None, outcome: str, seconds: float, error_codes: Iterable[str]
    ) -> None:
        label = self.operation_label(name)
        self._child("op", label, outcome)(1)
        self._child("op_s", label)(seconds)
        for code in error_codes:
            self._child("err", code)(1)

    def upstream_call(self, vendor: Vendor, status: str, seconds: float) -> None:
        self._child("up", vendor.value, status)(1)
        self._child("up_s", vendor.value)(seconds)

    def breaker_refusal(self, vendor: Vendor) -> None:
        self._child("breaker", vendor.value)(1)

    def token_grant(self, vendor: Vendor, outcome: str) -> None:
        self._child("token", vendor.value, outcome)(1)

    def _child(self, *key: str) -> Callable[..., None]:
        """The bound ``inc``/``observe`` of a label set: ``labels()`` runs once per set."""
        bound = self._children.get(key)
        if bound is None:
            kind, labels = key[0], key[1:]
            metric = {
                "op": self._operations,
                "op_s": self._operation_seconds,
                "err": self._operation_errors,
                "up": self._upstream,
                "up_s": self._upstream_seconds,
                "breaker": self._breaker_refusals,
                "token": self._token_grants,
            }[kind]
            child = metric.labels(*labels)
            bound = child.observe if isinstance(child, Histogram) else cast(Counter, child).inc
            self._children[key] = bound
        return bound

    async def endpoint(self, request: Request) -> Response:
        return Response(generate_latest(self.registry), media_type=CONTENT_TYPE_LATEST)


class BreakerCollector(Collector):
    """Each vendor breaker's state, read at scrape time (one series per state, 1 for
    the current one, as Prometheus state sets are written)."""

    def __init__(self, breakers: Callable[[], Iterable[CircuitBreaker]]) -> None:
        self._breakers = breakers

    def collect(self) -> Iterator[Metric]:
        state = GaugeMetricFamily(
            "gateway_breaker_state",
            "Circuit breaker state per vendor: 1 for the current state.",
            labels=["vendor", "state"],
        )
        failures = GaugeMetricFamily(
            "gateway_breaker_consecutive_failures",
            "Consecutive vendor faults counted by the circuit breaker.",
            labels=["vendor"],
        )
        for breaker in self._breakers():
            current = breaker.state
            for candidate in BreakerState:
                state.add_metric(
                    [breaker.vendor.value, candidate.value], 1.0 if candidate is current else 0.0
                )
            failures.add_metric([breaker.vendor.value], float(breaker.consecutive_failures))
        yield state
        yield failures

    def describe(self) -> Iterator[Metric]:
        return iter(())
