"""The seam between adapters and httpx: one pooled client per vendor, a
deadline that never cancels httpx from outside, a circuit breaker, outbound
quotas, the read cache, call accounting, and the mapping of transport failures
onto the error hierarchy.

Adapters own their wire formats; they call :meth:`Upstream.send` and, for
statuses their vendor does not explain better, ``gateway.upstream.responses.raise_for_status``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from importlib.metadata import version as package_version
from typing import Any

import httpx

from gateway.core.errors import (
    GatewayError,
    RateLimited,
    UpstreamBadResponse,
    UpstreamUnavailable,
)
from gateway.core.ratelimit import Quota, retry_after
from gateway.core.settings import GatewaySettings
from gateway.core.types import Vendor
from gateway.core.windows import WindowLimiter, share
from gateway.observability.scope import UpstreamCall, current_request
from gateway.observability.telemetry import telemetry_of
from gateway.state.storage.base import SharedStore
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache.held import Held, HeldOf, Holds
from gateway.upstream.cache.reads import VendorReadCache
from gateway.upstream.cache.scope import note_fresh
from gateway.upstream.collapse import ReadCollapse
from gateway.upstream.framing import RequestFraming, VendorClient
from gateway.upstream.transport import AnswerTooLarge, UnreadableResponse, vendor_transport

logger = logging.getLogger("gateway.upstream")

DEFAULT_TIMEOUT = 10.0


def vendor_limits(max_connections: int) -> httpx.Limits:
    # Every connection may stay open: a vendor held at its concurrency limit would
    # otherwise reconnect for most calls.
    return httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)


# Names the gateway to vendors instead of httpx's default; a vendor that wants its
# own form (Fakturoid: an app and a contact) gets it from its adapter.
USER_AGENT = f"task-gateway/{package_version('task-gateway')}"


def create_client(
    base_url: str,
    *,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
    max_connections: int = 20,
) -> httpx.AsyncClient:
    limits = vendor_limits(max_connections)
    return VendorClient(
        base_url=base_url.rstrip("/") + "/",
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=limits,
        transport=transport or vendor_transport(limits),
        headers={"User-Agent": USER_AGENT, **(headers or {})},
        follow_redirects=False,
    )


@dataclass(frozen=True, slots=True)
class OutboundBudget:
    """A vendor's shared request quota (``VendorSettings.outbound_quotas``), spent by
    every client of this gateway; a call past the gateway's share of it (``share``) is
    refused before it is sent."""

    quotas: tuple[Quota, ...]
    limiter: WindowLimiter
    # The part of each quota left to the account's other users (GATEWAY_QUOTA_RESERVE).
    reserve: float = 0.0

    @property
    def shares(self) -> tuple[Quota, ...]:
        return share(self.quotas, self.reserve)

    async def spend(self, vendor: Vendor) -> None:
        shares = self.shares
        wait = await self.limiter.acquire(f"vendor:{vendor.value}", shares)
        if wait is not None:
            quota = ", ".join(
                f"{ours.limit} of {theirs.describe()}"
                for ours, theirs in zip(shares, self.quotas, strict=True)
            )
            raise RateLimited(
                vendor,
                f"the gateway's share of this vendor's request quota ({quota}) is spent for now",
                retry_after=retry_after(wait),
            )


@dataclass(frozen=True, slots=True)
class UpstreamPolicy:
    """How every vendor's upstream behaves: from GATEWAY_UPSTREAM_TIMEOUT and GATEWAY_BREAKER_*."""

    timeout: float
    breaker_failures: int = 5
    breaker_cooldown: float = 30.0
    # State shared with the gateway's other processes (OAuth tokens); None: per adapter.
    store: SharedStore | None = None
    # Breakers through ``store`` too (only worth a store read when it is Redis).
    share_breakers: bool = False

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> UpstreamPolicy:
        return cls(
            timeout=settings.upstream_timeout,
            breaker_failures=settings.breaker_failures,
            breaker_cooldown=settings.breaker_cooldown,
        )

    def breaker(self, vendor: Vendor) -> CircuitBreaker:
        return CircuitBreaker(
            vendor,
            failures=self.breaker_failures,
            cooldown=self.breaker_cooldown,
            shared=self.store if self.share_breakers else None,
        )


class Upstream:
    """One vendor's pooled HTTP client, with a deadline, a circuit breaker,
    accounting and failure mapping.

    Whatever the transport, a caller that stops waiting (cancelled: client gone,
    operation time limit; or its deadline passed) never leaks a pool slot or hangs
    a later call, and the body is read under the overall deadline, so a vendor
    trickling bytes cannot hold a call past it.

    - Calls straight to the production transport's pool (no per-call auth) run in the
      caller's own task, under the deadline, and are cancelled with it. The pool gives
      back what a cancelled call holds at every point: its place in the queue for a
      slot, the slot of a connection being opened, and a connection mid-request or
      mid-body, which it closes rather than pools. An abandoned call
      neither goes on to the vendor nor counts for the breaker (a half-open probe is
      released); one cut off by the deadline counts as the vendor's failure.
    - Every other call (per-call auth, a transport injected into the client, which may
      be httpcore's) runs in a task of its own that callers only wait for: httpcore
      1.0.9 leaks a pool slot for good when a request is cancelled while it waits for
      a connection the pool has just opened for it (encode/httpcore#1093). The task
      carries on and ends on its own: httpx's timeouts bound the pool wait, connect,
      write and each read; the body is read under the deadline, and httpcore closes a
      connection whose body read is cancelled (under a shield) and gives its slot
      back.
    """

    def __init__(
        self,
        vendor: Vendor,
        client: httpx.AsyncClient,
        *,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.vendor = vendor
        self.client = client
        # What every call to the vendor shares, read from the client once.
        self.framing = RequestFraming(client)
        self.breaker = breaker
        # Set by the gateway from the vendor's settings (see gateway.adapters).
        self.outbound: OutboundBudget | None = None
        # Set by the gateway when GATEWAY_CACHE is on and the vendor has a fresh window.
        self.cache: VendorReadCache | None = None
        # Set by the gateway unless GATEWAY_COLLAPSE_READS is off.
        self.collapse: ReadCollapse | None = None
        # The read timeout is the configured upstream timeout (see create_client).
        self.timeout = client.timeout.read or DEFAULT_TIMEOUT
        # The production transport, called directly when the client would add nothing
        # to a call: no auth flow, no event hooks (their own, or one per call).
        hooked = any(client.event_hooks.values())
        direct = client.direct if isinstance(client, VendorClient) else None
        self._direct = direct if client.auth is None and not hooked else None
        # Strong references: the loop keeps only weak ones to running tasks.
        self._exchanges: set[asyncio.Task[httpx.Response]] = set()

    async def send(
        self,
        method: str,
        url: str,
        *,
        grant: bool = False,
        item: str | None = None,
        holds: Holds | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """One call to the vendor. ``grant`` marks a token request: it neither passes
        through the read cache nor drops it, and no write's outcome hangs on it. ``item``
        names the one item the call reads or writes (``Type:id``, as in global ids), so the
        read cache supersedes no more than a change of it touches. ``holds`` reads the
        items a list answer shows, which the read cache keeps as their by-id reads'."""
        # The request serves the read cache's key, the exchange and (its path only)
        # the accounting.
        auth = kwargs.pop("auth", httpx.USE_CLIENT_DEFAULT)
        request, path = self.framing.build(method, url, **kwargs)
        if grant:
            return await self._send(request, path, auth, grant=True)
        if self.cache is not None:
            # First: a cached read spends no quota and is no call.
            fetch = partial(self._read, request, path, auth)
            held_of = self._held_of(holds, kwargs.get("headers")) if holds else None
            return await self.cache.send(request, fetch, item, held_of)
        note_fresh(self.vendor)
        return await self._read(request, path, auth)

    async def kept(
        self, method: str, url: str, *, item: str | None = None, **kwargs: Any
    ) -> httpx.Response | None:
        """The read cache's fresh answer to the call ``send`` would make, or None without
        a call: for an adapter that reads more widely when nothing fresh is kept."""
        if self.cache is None:
            return None
        request, _ = self.framing.build(method, url, **kwargs)
        return await self.cache.fresh(request, item)

    def _held_of(self, holds: Holds, headers: Any) -> HeldOf:
        """``holds`` with each item's by-id read built as the adapter would send it (the
        same headers as the list's), so its entry is found under that read's key."""

        def held_of(response: httpx.Response) -> list[Held]:
            build = self.framing.build
            return [
                Held(build("GET", each.path, headers=headers)[0], each.item, each.content)
                for each in holds(response.content)
            ]

        return held_of

    def _read(self, request: httpx.Request, path: str, auth: Any) -> Awaitable[httpx.Response]:
        """The call, shared with an identical read in flight where that is allowed."""
        if self.collapse is not None and self.collapse.applies(request, auth):
            return self.collapse.send(request, path, lambda: self._send(request, path, auth))
        return self._send(request, path, auth)

    async def _send(
        self, request: httpx.Request, path: str, auth: Any, *, grant: bool = False
    ) -> httpx.Response:
        state = current_request.get()
        telemetry = telemetry_of(state)
        if self.outbound is not None:
            # Before the breaker: a refused call is neither a probe nor a failure.
            await self.outbound.spend(self.vendor)
        if self.breaker is not None:
            await self.breaker.refresh()
        try:
            probe = self.breaker.admit() if self.breaker else False
        except UpstreamUnavailable:
            if telemetry is not None:
                telemetry.breaker_refusal(self.vendor)
            raise
        method = request.method
        started = time.perf_counter()
        status: int | None = None
        failure = "error"
        # Only the path is ever recorded or logged: some vendors put keys in the query.
        span = telemetry.upstream_span(self.vendor, method, path) if telemetry else None
        try:
            if self._direct is not None and (auth is None or auth is httpx.USE_CLIENT_DEFAULT):
                response = await self._direct_exchange(request, probe)
            else:
                response = await self._exchange_in_task(request, auth, probe)
            status = response.status_code
            return response
        except _TimedOut:
            failure = "timeout"
            raise UpstreamUnavailable(self.vendor, "the request timed out") from None
        except GatewayError as exc:
            failure = _failure_label(exc)
            raise
        finally:
            seconds = time.perf_counter() - started
            elapsed = seconds * 1000
            if state is not None:
                log = state.calls
                offset = round((started - log.started) * 1000, 2)
                call = UpstreamCall(
                    self.vendor, method, path, status, round(elapsed, 2), offset, grant
                )
                log.calls.append(call)
            if telemetry is not None:
                label = _STATUS_LABELS.get(status, failure) if status is not None else failure
                telemetry.upstream_finished(self.vendor, label, seconds, span)
            logger.debug(
                "%s %s %s -> %s in %.1f ms", self.vendor.value, method, path, status, elapsed
            )

    async def _direct_exchange(self, request: httpx.Request, probe: bool) -> httpx.Response:
        """The call in the caller's task, cancelled with it (see the class docstring)."""
        assert self._direct is not None
        deadline = asyncio.get_running_loop().time() + self.timeout
        limit = asyncio.timeout_at(deadline)
        try:
            async with limit:
                return await self._exchange(request, deadline, probe, self._direct.exchange)
        except TimeoutError:
            if limit.expired():
                raise _TimedOut from None
            raise

    async def _exchange_in_task(
        self, request: httpx.Request, auth: Any, probe: bool
    ) -> httpx.Response:
        """The call in a task of its own, never cancelled from outside."""
        deadline = asyncio.get_running_loop().time() + self.timeout
        call = partial(self._through_client, deadline=deadline, auth=auth)
        # The task gets a copy of the context, the request's state included.
        exchange = asyncio.ensure_future(self._exchange(request, deadline, probe, call))
        self._exchanges.add(exchange)
        exchange.add_done_callback(self._exchange_done)
        # asyncio.wait never cancels what it waits for, whether it times out or the
        # caller is cancelled.
        done, _ = await asyncio.wait({exchange}, timeout=self.timeout)
        if not done:
            raise _TimedOut
        return exchange.result()

    async def _exchange(
        self,
        request: httpx.Request,
        deadline: float,
        probe: bool,
        call: Callable[[httpx.Request], Awaitable[httpx.Response]],
    ) -> httpx.Response:
        healthy = False
        abandoned = False
        try:
            response = await call(request)
            # A 4xx or 429 is the vendor answering; only its own failures count.
            healthy = response.status_code < 500
            return response
        except asyncio.CancelledError:
            # Cut off by the deadline: the vendor's failure; by the caller: no verdict.
            abandoned = asyncio.get_running_loop().time() < deadline
            raise
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise UpstreamUnavailable(self.vendor, "the request timed out") from exc
        except httpx.DecodingError as exc:
            healthy = True
            raise UpstreamBadResponse(self.vendor, "the response could not be decoded") from exc
        except AnswerTooLarge as exc:
            healthy = True  # the vendor answered; no retry makes the answer shorter
            raise UpstreamBadResponse(self.vendor, "the response was too large") from exc
        except UnreadableResponse as exc:
            # Not healthy: bytes that are not HTTP come from a broken vendor or the
            # wrong address, and go on coming until someone fixes it.
            raise UpstreamBadResponse(self.vendor, "the response was not valid HTTP") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(self.vendor, "the service could not be reached") from exc
        finally:
            if self.breaker is not None:
                if abandoned:
                    self.breaker.abandon(probe=probe)
                else:
                    self.breaker.record(healthy=healthy, probe=probe)
                    await self.breaker.share()

    async def _through_client(
        self, request: httpx.Request, *, deadline: float, auth: Any
    ) -> httpx.Response:
        response = await self.client.send(request, auth=auth, stream=True)
        try:
            async with asyncio.timeout_at(deadline):
                await response.aread()
        finally:
            await response.aclose()
        return response

    def _exchange_done(self, exchange: asyncio.Task[httpx.Response]) -> None:
        self._exchanges.discard(exchange)
        # Mark the outcome as seen: a caller that stopped waiting never reads it.
        if not exchange.cancelled():
            exchange.exception()

    async def aclose(self) -> None:
        # The pool is going away, so cancelling what is still in it is harmless now.
        for exchange in list(self._exchanges):
            exchange.cancel()
        await asyncio.gather(*self._exchanges, return_exceptions=True)
        await self.client.aclose()


class _TimedOut(Exception):
    """The call's deadline passed before it ended."""


# Metric labels of statuses, made once rather than per call.
_STATUS_LABELS = {status: str(status) for status in range(100, 600)}


def _failure_label(error: GatewayError) -> str:
    """How a call without a response failed, for metrics and spans."""
    if isinstance(error, UpstreamBadResponse):
        return "bad_response"
    if isinstance(error.__cause__, httpx.TimeoutException | TimeoutError):
        return "timeout"
    return "unreachable"
