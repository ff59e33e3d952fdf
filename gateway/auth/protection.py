"""The client protection of one gateway app, built from its settings: who may
call (authentication), how often (requests a minute) and how much upstream work
their operations may cause (upstream calls a minute)."""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth.authenticator import Authenticator
from gateway.config import Settings
from gateway.core.ratelimit import CallBudget, MemoryRateLimiter, RateLimiter, per_minute


@dataclass(frozen=True, slots=True)
class ClientProtection:
    authenticator: Authenticator | None  # None: authentication is off
    requests: CallBudget | None  # None: unlimited
    calls: CallBudget | None
    graphiql: bool

    @classmethod
    def from_settings(
        cls, settings: Settings, limiter: RateLimiter | None = None
    ) -> ClientProtection:
        """ValueError for malformed credentials settings."""
        gateway = settings.gateway
        limiter = limiter or MemoryRateLimiter()
        vendors = [plugin.vendor.value for plugin in settings.plugins]
        requests = per_minute(gateway.client_requests_per_minute)
        calls = per_minute(gateway.client_upstream_calls_per_minute)
        return cls(
            authenticator=Authenticator.from_settings(gateway, vendors) if gateway.auth else None,
            requests=CallBudget(limiter, requests) if requests else None,
            # The same client key in both: the quotas differ, so the buckets do.
            calls=CallBudget(limiter, calls) if calls else None,
            graphiql=gateway.graphiql,
        )
