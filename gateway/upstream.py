"""The seam between adapters and httpx: one pooled client per vendor, call
accounting, and the vendor-neutral mapping of transport failures and HTTP
statuses onto the error hierarchy.

Adapters own their wire formats; they call :meth:`Upstream.send` and, for
statuses their vendor does not explain better, :func:`raise_for_status`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from gateway.errors import (
    NotFound,
    RateLimited,
    UpstreamAuthError,
    UpstreamBadResponse,
    UpstreamRejected,
    UpstreamUnavailable,
)
from gateway.types import Vendor

logger = logging.getLogger("gateway.upstream")


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    vendor: Vendor
    method: str
    path: str
    status: int | None
    duration_ms: float


@dataclass
class CallLog:
    """The upstream calls made on behalf of one GraphQL operation."""

    calls: list[UpstreamCall] = field(default_factory=list)


# Adapters are shared by every request, so the per-operation log travels in a
# context variable; asyncio copies it into the tasks that resolvers spawn.
current_call_log: ContextVar[CallLog | None] = ContextVar("current_call_log", default=None)


@contextmanager
def recording_calls(log: CallLog) -> Iterator[CallLog]:
    token = current_call_log.set(log)
    try:
        yield log
    finally:
        current_call_log.reset(token)


def create_client(
    base_url: str,
    *,
    timeout: float,
    transport: httpx.AsyncBaseTransport | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url.rstrip("/") + "/",
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
        transport=transport,
        headers=headers,
        follow_redirects=False,
    )


class Upstream:
    """One vendor's pooled HTTP client, with accounting and failure mapping."""

    def __init__(self, vendor: Vendor, client: httpx.AsyncClient) -> None:
        self.vendor = vendor
        self.client = client

    async def send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        started = time.perf_counter()
        status: int | None = None
        # Only the path is ever recorded or logged: some vendors put keys in the query.
        path = httpx.URL(url).path
        try:
            # httpx's read timeout is per chunk; a vendor trickling bytes must still
            # not hold a request longer than the configured timeout as a whole.
            async with asyncio.timeout(self.client.timeout.read):
                response = await self.client.request(method, url, **kwargs)
            status = response.status_code
            return response
        except (httpx.TimeoutException, TimeoutError) as exc:
            raise UpstreamUnavailable(self.vendor, "the request timed out") from exc
        except httpx.DecodingError as exc:
            raise UpstreamBadResponse(self.vendor, "the response could not be decoded") from exc
        except httpx.HTTPError as exc:
            raise UpstreamUnavailable(self.vendor, "the service could not be reached") from exc
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            call = UpstreamCall(self.vendor, method, path, status, round(elapsed, 2))
            log = current_call_log.get()
            if log is not None:
                log.calls.append(call)
            logger.debug(
                "%s %s %s -> %s in %.1f ms", self.vendor.value, method, path, status, elapsed
            )

    async def aclose(self) -> None:
        await self.client.aclose()


class RefusedCredentials:
    """Remembers that a vendor refused the gateway's credentials for a token.

    For ``hold`` seconds afterwards token requests fail at once instead of each
    asking the vendor again: credentials rarely fix themselves in seconds, and
    vendors lock out clients that keep presenting refused ones.
    """

    def __init__(
        self, vendor: Vendor, *, clock: Callable[[], float] = time.monotonic, hold: float = 30.0
    ) -> None:
        self._vendor, self._clock, self._hold = vendor, clock, hold
        self._refused_at: float | None = None

    async def guard(self, grant: Callable[[], Awaitable[str]]) -> str:
        """Run a token ``grant`` unless credentials were just refused; remember the outcome."""
        self._check()
        try:
            token = await grant()
        except UpstreamAuthError:
            self._refused_at = self._clock()
            raise
        self._refused_at = None
        return token

    def _check(self) -> None:
        if self._refused_at is None:
            return
        remaining = self._hold - (self._clock() - self._refused_at)
        if remaining > 0:
            raise UpstreamAuthError(
                self._vendor,
                "the credentials were refused moments ago; not asking again yet",
                retryAfter=round(remaining, 1),
            )
        self._refused_at = None


def retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
    except (TypeError, ValueError):
        return None


def raise_for_status(vendor: Vendor, response: httpx.Response, *, what: str = "item") -> None:
    """Map an unsuccessful status to the error hierarchy, with gateway-written text."""
    status = response.status_code
    if status < 400:
        return
    if status in (401, 403):
        raise UpstreamAuthError(vendor, "the credentials were refused", status=status)
    if status == 404:
        raise NotFound(f"{vendor.label}: no such {what}", vendor=vendor)
    if status == 429:
        raise RateLimited(vendor, "rate limit reached", retry_after=retry_after_seconds(response))
    if status >= 500:
        raise UpstreamUnavailable(vendor, "the service failed", status=status)
    raise UpstreamRejected(vendor, "the request was refused", status=status)


def json_body(vendor: Vendor, response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise UpstreamBadResponse(vendor, "the response was not valid JSON") from exc
