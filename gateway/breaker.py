"""A circuit breaker per vendor: stop calling a vendor that keeps failing.

A vendor that is down makes every request wait for its timeout and then fail;
the breaker turns that into an immediate ``UPSTREAM_UNAVAILABLE`` with
``retryAfter`` and gives the vendor room to recover::

    closed ──(``failures`` consecutive vendor faults)──▶ open
    open ──(``cooldown`` seconds pass)──▶ half_open
    half_open: one probe call goes through, every other call still fails fast
        probe answered ──▶ closed        probe failed ──▶ open again

Only the vendor's own faults count (timeouts, unreachable, 5xx). A 4xx or 429
is the vendor answering, so it resets the streak instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from gateway.errors import UpstreamUnavailable
from gateway.types import Vendor

logger = logging.getLogger("gateway.breaker")

# What a call that finds the probe already in flight is told: the probe's
# outcome is not known yet, so this is a polite guess rather than a promise.
PROBE_RETRY_AFTER = 1.0


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        vendor: Vendor,
        *,
        failures: int,
        cooldown: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failures < 1 or cooldown <= 0:
            raise ValueError("a breaker needs failures >= 1 and a positive cool-down")
        self.vendor = vendor
        self.failures = failures
        self.cooldown = cooldown
        self.clock = clock
        self._streak = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        if self._opened_at is None:
            return BreakerState.CLOSED
        if self._remaining() > 0:
            return BreakerState.OPEN
        return BreakerState.HALF_OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._streak

    def _remaining(self) -> float:
        if self._opened_at is None:
            return 0.0
        return self.cooldown - (self.clock() - self._opened_at)

    def admit(self) -> bool:
        """Let a call through, or raise UpstreamUnavailable at once.

        Returns whether the call is the half-open probe; the caller must report
        its outcome with :meth:`record` either way.
        """
        state = self.state
        if state is BreakerState.CLOSED:
            return False
        if state is BreakerState.OPEN:
            self._refuse(max(0.1, round(self._remaining(), 1)))
        if self._probing:
            self._refuse(PROBE_RETRY_AFTER)
        self._probing = True
        return True

    def _refuse(self, retry_after: float) -> None:
        raise UpstreamUnavailable(
            self.vendor,
            "not called: it failed repeatedly and is being given time to recover",
            retryAfter=retry_after,
        )

    def record(self, *, healthy: bool, probe: bool) -> None:
        """The outcome of an admitted call: ``healthy`` unless it was the vendor's fault."""
        if probe:
            self._probing = False
        if healthy:
            if self._opened_at is not None:
                logger.info("%s: circuit breaker closed, the vendor answered", self.vendor.value)
            self._streak = 0
            self._opened_at = None
            return
        self._streak += 1
        if probe or (self._opened_at is None and self._streak >= self.failures):
            self._opened_at = self.clock()
            logger.warning(
                "%s: circuit breaker open for %.0f s after %d consecutive failures",
                self.vendor.value,
                self.cooldown,
                self._streak,
            )

    def snapshot(self) -> dict[str, Any]:
        """The breaker as /readyz reports it."""
        state = self.state
        report: dict[str, Any] = {"breaker": state.value, "consecutiveFailures": self._streak}
        if state is BreakerState.OPEN:
            report["retryAfter"] = round(self._remaining(), 1)
        return report
