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

With a shared store (GATEWAY_REDIS_URL) every process learns of an open breaker:
the process that opens it publishes when (wall clock), the others adopt it on
their next call and fail fast too; a probe that closes it withdraws it. Each
process counts its own streak. The hot path reads the store at most once per
``SYNC_INTERVAL`` per vendor, not on every upstream call.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from gateway.core.errors import UpstreamUnavailable
from gateway.core.types import Vendor
from gateway.state.storage.base import SharedStore

logger = logging.getLogger("gateway.breaker")

# What a call that finds the probe already in flight is told: the probe's
# outcome is not known yet, so this is a polite guess rather than a promise.
PROBE_RETRY_AFTER = 1.0
# How stale this process's view of the shared breaker may be: another process's
# open breaker reaches this one within this long, for one store read per vendor.
SYNC_INTERVAL = 0.25


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
        shared: SharedStore | None = None,
        wall_clock: Callable[[], float] = time.time,
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
        self._shared = shared
        self._wall_clock = wall_clock
        self._key = f"breaker:{vendor.value}"
        self._synced_at = float("-inf")
        # The shared open state this process published or adopted, as stored.
        self._known: bytes | None = None
        self._unpublished = False

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
        its outcome with :meth:`record` either way (or :meth:`abandon` it).
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

    async def refresh(self) -> None:
        """Adopt what other processes decided, if the last look is older than
        ``SYNC_INTERVAL`` (concurrent callers share one look)."""
        now = self.clock()
        if self._shared is None or now - self._synced_at < SYNC_INTERVAL:
            return
        self._synced_at = now
        raw = await self._shared.get(self._key)
        if raw == self._known:
            return
        opened = _opened_at(raw)
        if raw is None or opened is None:
            if self._known is not None and self._opened_at is not None:
                # Withdrawn: another process's probe was answered (or no one called for
                # a long while and the state expired).
                logger.info("%s: circuit breaker closed by another process", self.vendor.value)
                self._opened_at, self._streak = None, 0
            self._known = None
            return
        self._known = raw
        self._opened_at = self.clock() - max(0.0, self._wall_clock() - opened)
        logger.warning("%s: circuit breaker opened by another process", self.vendor.value)

    async def share(self) -> None:
        """Publish (or withdraw) what :meth:`record` just decided, for other processes."""
        if self._shared is None or not self._unpublished:
            return
        self._unpublished = False
        if self._opened_at is None:
            if self._known is not None:
                await self._shared.delete(self._key, expected=self._known)
                self._known = None
            return
        opened = self._wall_clock() - (self.clock() - self._opened_at)
        raw = json.dumps({"opened_at": opened}).encode()
        # Kept past the cool-down so that other processes see the half-open state and
        # the probe's outcome; gone by itself if no process calls the vendor at all.
        await self._shared.set(self._key, raw, ttl=2 * self.cooldown + 1)
        self._known = raw

    def _refuse(self, retry_after: float) -> None:
        raise UpstreamUnavailable(
            self.vendor,
            "not called: it failed repeatedly and is being given time to recover",
            retryAfter=retry_after,
        )

    def abandon(self, *, probe: bool) -> None:
        """An admitted call whose caller stopped waiting before any outcome: no verdict
        on the vendor, and a probe's place goes to the next call."""
        if probe:
            self._probing = False

    def record(self, *, healthy: bool, probe: bool) -> None:
        """The outcome of an admitted call: ``healthy`` unless it was the vendor's fault."""
        if probe:
            self._probing = False
        if healthy:
            if self._opened_at is not None:
                logger.info("%s: circuit breaker closed, the vendor answered", self.vendor.value)
                self._unpublished = True
            self._streak = 0
            self._opened_at = None
            return
        self._streak += 1
        if probe or (self._opened_at is None and self._streak >= self.failures):
            self._opened_at = self.clock()
            self._unpublished = True
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


def _opened_at(raw: bytes | None) -> float | None:
    if raw is None:
        return None
    try:
        return float(json.loads(raw)["opened_at"])
    except (ValueError, KeyError, TypeError):
        return None
