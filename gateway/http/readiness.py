"""`/readyz`: whether every configured vendor answers, probed cheaply and rarely.

Each plugin may declare a ``readiness_probe``: its cheapest authenticated read.
A round of probes runs every configured vendor's at once, each bounded by a
short timeout, and its outcome is kept for ``ttl`` seconds. Requests that
arrive while a round runs wait for that round, so however often `/readyz` is
hit, a vendor sees at most one probe per ``ttl``. Breaker states are read live
on every request: an open breaker makes the gateway not ready at once.

A probe's failure is reported by its error code and the gateway's own message
(never an upstream body, header or credential); anything unexpected is
reported only as ``INTERNAL_SERVER_ERROR``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.adapters import Adapters
from gateway.core.errors import GatewayError, RateLimited, UpstreamAuthError
from gateway.core.types import Vendor
from gateway.upstream.cache.scope import vendor_state
from gateway.upstream.single_flight import SingleFlight

logger = logging.getLogger("gateway.readiness")


@dataclass(frozen=True, slots=True)
class ProbeOutcome:
    ready: bool
    reason: str | None = None  # an extensions.code, when not ready
    message: str | None = None
    # A vendor's rate limit (its own 429, or the gateway's outbound quota for it) says
    # the vendor is up and the credentials work: ready, with the limit reported.
    rate_limited: bool = False
    retry_after: float | None = None

    def report(self) -> dict[str, Any]:
        if self.ready and self.rate_limited:
            return {"ready": True, "rateLimited": True, "retryAfter": self.retry_after}
        if self.ready:
            return {"ready": True}
        return {"ready": False, "reason": self.reason, "message": self.message}


@dataclass(frozen=True, slots=True)
class ProbeRound:
    outcomes: dict[Vendor, ProbeOutcome]
    finished_at: float


NO_PROBE = ProbeOutcome(ready=True)


class Readiness:
    def __init__(
        self,
        adapters: Adapters,
        *,
        ttl: float,
        timeout: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.adapters = adapters
        self.ttl = ttl
        self.timeout = timeout
        self.clock = clock
        self._round: ProbeRound | None = None
        self._flight = SingleFlight[ProbeRound]()

    async def check(self) -> tuple[bool, dict[str, Any]]:
        """Whether the gateway is ready, and the per-vendor report `/readyz` answers."""
        outcomes = (await self._current_round()).outcomes
        configured = set(self.adapters.configured)
        vendors: dict[str, Any] = {}
        open_breakers: list[str] = []
        for vendor in self.adapters.configured:
            outcome = outcomes.get(vendor, NO_PROBE)
            entry = outcome.report()
            breaker = self.adapters.breaker(vendor)
            if breaker is not None:
                snapshot = breaker.snapshot()
                entry.update(snapshot)
                if snapshot["breaker"] == "open":
                    open_breakers.append(vendor.value)
                    if outcome.ready:
                        entry.update(
                            ready=False,
                            reason="UPSTREAM_UNAVAILABLE",
                            message="its circuit breaker is open after repeated failures",
                        )
            vendors[vendor.value] = entry
        not_configured = [v.value for v in self.adapters.vendors if v not in configured]
        nothing_configured = not self.adapters.configured
        ready = not nothing_configured and all(entry["ready"] for entry in vendors.values())
        report: dict[str, Any] = {
            "status": "ready" if ready else "not_ready",
            "vendors": vendors,
            "openBreakers": open_breakers,
            "notConfigured": not_configured,
        }
        if nothing_configured:
            report["reason"] = "no vendor is configured"
        return ready, report

    async def _current_round(self) -> ProbeRound:
        done = self._round
        if done is not None and self.clock() - done.finished_at < self.ttl:
            return done
        # Requests arriving during a round share it; a client that hangs up
        # does not cancel it for the others.
        self._round = await self._flight.run(self._probe_all)
        return self._round

    async def _probe_all(self) -> ProbeRound:
        vendors = self.adapters.configured
        outcomes = await asyncio.gather(*(self._probe(vendor) for vendor in vendors))
        return ProbeRound(dict(zip(vendors, outcomes, strict=True)), self.clock())

    async def _probe(self, vendor: Vendor) -> ProbeOutcome:
        probe = self.adapters.readiness_probe(vendor)
        if probe is None:
            return NO_PROBE
        try:
            # Cancelling the probe leaves its upstream call running in its own task
            # (see Upstream.send), so a timed-out probe never corrupts the pool. It asks
            # the vendor itself: a cached answer says nothing of whether it answers now.
            with vendor_state():
                await asyncio.wait_for(probe(), timeout=self.timeout)
        except TimeoutError:
            return ProbeOutcome(
                False,
                "UPSTREAM_UNAVAILABLE",
                f"{vendor.label}: no answer to the readiness probe within {self.timeout:g} s",
            )
        except RateLimited as exc:
            # A spent quota must not take the whole gateway out of a load balancer:
            # every other vendor, and this one's cached reads, still answer.
            return ProbeOutcome(True, rate_limited=True, retry_after=exc.retry_after)
        except GatewayError as exc:
            if isinstance(exc, UpstreamAuthError):
                self.adapters.credential_warnings.refused(vendor)
            # Messages in the hierarchy are the gateway's own, never upstream text.
            return ProbeOutcome(False, exc.code, exc.message)
        except Exception as exc:
            logger.warning(
                "%s: readiness probe failed unexpectedly (%s)", vendor.value, type(exc).__name__
            )
            return ProbeOutcome(
                False, "INTERNAL_SERVER_ERROR", f"{vendor.label}: the readiness probe failed"
            )
        return ProbeOutcome(True)
