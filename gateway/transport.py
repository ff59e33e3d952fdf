"""The transport under every vendor's httpx client: aiohttp's connection pool.

httpx stays the interface: adapters build ``httpx`` requests and read
``httpx.Response`` objects, and tests swap the transport (``MockTransport``,
``ASGITransport`` to the sandboxes). Only the bytes go through aiohttp, whose
pool costs about half the CPU per upstream call of httpcore on anyio (the
profile of a ten-task list: httpx and httpcore 40% of the gateway's CPU with
httpcore, 27% with aiohttp; 412 to 614 requests a second on one core).

httpx-aiohttp maps aiohttp's errors onto httpx's by class, but a refused or
dropped connection comes out as ``ConnectTimeout``. The gateway tells an
unreachable vendor from a slow one, so such errors are mapped again here from
their aiohttp cause.
"""

from __future__ import annotations

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport


class VendorTransport(AiohttpTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            return await super().handle_async_request(request)
        except httpx.TransportError as exc:
            raise _precise(exc, request) from exc.__cause__


def _precise(exc: httpx.TransportError, request: httpx.Request) -> httpx.TransportError:
    cause = exc.__cause__
    if isinstance(cause, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout("connecting timed out", request=request)
    if isinstance(cause, aiohttp.ServerTimeoutError):
        return httpx.ReadTimeout("reading timed out", request=request)
    if isinstance(cause, aiohttp.ClientConnectorError):
        return httpx.ConnectError("the connection failed", request=request)
    if isinstance(cause, aiohttp.ServerDisconnectedError):
        return httpx.RemoteProtocolError("the server closed the connection", request=request)
    return exc


def vendor_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return VendorTransport(limits=limits)
