"""Concurrent identical vendor reads share one call (``GATEWAY_COLLAPSE_READS``).

When many clients ask for the same vendor page at once (a dashboard opened by a
team, a burst of retries), each would spend a call of the vendor's small quota on
the same answer. A GET whose URL (query included) and headers match one already
in flight joins it instead: one call reaches the vendor, and every caller gets its
own copy of the answer or the same failure.

The key is the request itself: the gateway's vendor credentials are the same for
every client, and the headers it sends are all in the key, so two requests that
could get different answers never share one. Writes and token grants are never
collapsed, nor a read that decides a write: joining a call that began before the
write's decision could decide it on a state older than the decision.

The shared call runs in a task of its own (see ``SingleFlight``): a caller that is
cancelled stops waiting, and the others still get the answer.

With ``GATEWAY_REDIS_URL`` the one call in flight in a process is shared with the
other processes as well (``gateway.state.storage.shared_flights``): the first takes a
lease on the read and calls; the others wait for its answer, if successful, and
otherwise make their own call. Their key is a hash of the vendor, the URL and every
header sent, so the vendor credentials it depends on are never stored in clear.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from gateway.core.types import Vendor
from gateway.observability.scope import UpstreamCall, current_request
from gateway.state.storage.shared_flights import SharedAnswer, SharedFlights
from gateway.upstream.cache.scope import deciding_a_write
from gateway.upstream.responses import decoded_headers
from gateway.upstream.single_flight import KeyedSingleFlight

_Key = tuple[str, tuple[tuple[bytes, bytes], ...]]
# Marks a response that another process's call got (httpx.Response.extensions).
SHARED_ELSEWHERE = "task_gateway.shared_elsewhere"


class ReadCollapse:
    """One vendor's reads in flight, by request."""

    def __init__(
        self, vendor: Vendor, shared: SharedFlights | None = None, *, wait: float = 10.0
    ) -> None:
        self.vendor = vendor
        self.flights = KeyedSingleFlight[_Key, httpx.Response]()
        # Other processes' reads (GATEWAY_REDIS_URL), waited on for at most ``wait``.
        self.shared, self.wait = shared, wait

    def applies(self, request: httpx.Request, auth: Any) -> bool:
        # A per-call auth is applied after the key is made: it could differ unseen.
        return (
            request.method == "GET"
            and auth is httpx.USE_CLIENT_DEFAULT
            and not deciding_a_write.get()
        )

    async def send(
        self,
        request: httpx.Request,
        path: str,
        fetch: Callable[[], Awaitable[httpx.Response]],
    ) -> httpx.Response:
        key = (str(request.url), tuple(request.headers.raw))
        operation = fetch if self.shared is None else lambda: self._across(request, fetch)
        flight, joined = self.flights.join(key, operation)
        started = time.perf_counter()
        if not joined:
            # The call is this caller's own (``fetch`` records it in its call log), and so
            # is the answer: only those who joined get copies, so the common case of a
            # read nobody shares costs no copy (about 80 µs a request in the benchmark).
            response = await asyncio.shield(flight)
            if response.extensions.get(SHARED_ELSEWHERE):
                self._record(path, response.status_code, started)
            return response
        status: int | None = None
        try:
            response = await asyncio.shield(flight)
            status = response.status_code
            return _copy(response, request)
        finally:
            self._record(path, status, started)

    async def _across(
        self, request: httpx.Request, fetch: Callable[[], Awaitable[httpx.Response]]
    ) -> httpx.Response:
        assert self.shared is not None
        outcome = await self.shared.run(
            shared_key(self.vendor, request), fetch, _shareable, wait=self.wait
        )
        if isinstance(outcome, SharedAnswer):
            return httpx.Response(
                outcome.status,
                headers=list(outcome.headers),
                content=outcome.content,
                request=request,
                extensions={SHARED_ELSEWHERE: True},
            )
        return outcome

    def _record(self, path: str, status: int | None, started: float) -> None:
        state = current_request.get()
        if state is None:
            return
        log = state.calls
        elapsed = round((time.perf_counter() - started) * 1000, 2)
        offset = round((started - log.started) * 1000, 2)
        call = UpstreamCall(self.vendor, "GET", path, status, elapsed, offset, collapsed=True)
        log.calls.append(call)


def _copy(response: httpx.Response, request: httpx.Request) -> httpx.Response:
    """The shared answer as a response of a joining caller's own: no two callers hold
    the same object, so none can see another's changes to it."""
    return httpx.Response(
        response.status_code,
        headers=list(decoded_headers(response)),
        content=response.content,
        request=request,
    )


def shared_key(vendor: Vendor, request: httpx.Request) -> str:
    """The read's key across processes: what could change its answer, hashed."""
    digest = hashlib.sha256(f"{vendor.value}\n{request.url}".encode())
    for name, value in request.headers.raw:
        digest.update(b"\n" + name.lower() + b": " + value)
    return f"{vendor.value}:{digest.hexdigest()}"


def _shareable(response: httpx.Response) -> SharedAnswer | None:
    # Only successes: a failure's detail (Retry-After, the vendor's error) is one answer's.
    if not 200 <= response.status_code < 300:
        return None
    return SharedAnswer(response.status_code, decoded_headers(response), response.content)
