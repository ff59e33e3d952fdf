"""The transport under every vendor's httpx client: a keep-alive pool of HTTP/1.1
connections of its own (:mod:`gateway.upstream.wire`).

httpx stays the interface: adapters build ``httpx`` requests and read
``httpx.Response`` objects, and tests swap the transport (``MockTransport``,
``ASGITransport`` to the sandboxes). A vendor call is a few hundred bytes each way
on a kept-alive connection; aiohttp's session spent about 145 µs of CPU on one
(its request and response objects, timers, headers parsed into multidicts and back,
a stream reader), where writing the bytes and feeding the answer to httptools'
parser costs about a third of that.

What the pool keeps to:

- Requests go out as httpx framed them: its request line and headers, a body as
  bytes with its ``Content-Length`` (never chunked: a server reading no GET body
  would take a ``0`` chunk for the next request), no ``Content-Type`` invented. A
  bodiless request whose method may carry a body (DELETE) says ``Content-Length: 0``.
- Answers framed by ``Content-Length``, chunked, or by the connection's end; the
  body is taken as sent (no decompression here: httpx decodes a content coding
  when the response is read, raising its ``DecodingError``).
- A connection carries another call only after its answer was read whole and both
  sides meant to keep it; a call cancelled at any point (the upstream layer's
  deadline, a client gone) closes its connection and frees its slot. At most
  ``max_connections`` calls are in flight (the vendor's limit, from its settings).
- Timeouts as httpx's: ``connect`` for opening a connection (TLS with the context
  httpx makes, verifying), ``pool`` for waiting for a slot, ``read`` between bytes.
- Every failure is an ``httpx.TransportError`` written here, raised with no cause
  or context: messages of the layers below may repeat the URL, and ReadyDesk's key
  travels in the query, so tracebacks that log it print nothing of the request.
- No cookies are kept or sent but those httpx framed.
- httpx's own request log line names the full URL; a filter cuts it to the path.
- :meth:`VendorTransport.exchange`: the whole call, the answer read into memory.
  httpx's client and stream layers around a call (auth and redirect handling, the
  bound stream) cost about a tenth of the CPU of a request making one vendor call;
  the upstream layer calls this when its client would add nothing to the call, and
  ``httpx.AsyncClient.send`` (which reaches :meth:`handle_async_request`) otherwise.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import AsyncIterator
from typing import Any

import httpx
from httpx._decoders import IdentityDecoder

from gateway.upstream.wire import (
    MAX_ANSWER_BYTES,
    Answer,
    AnswerTooLarge,
    Connection,
    UnreadableResponse,
    WireFailure,
    request_bytes,
)

__all__ = ["AnswerTooLarge", "UnreadableResponse", "VendorTransport", "vendor_transport"]

# Where httpx's client logs each call it sends; the direct exchange logs the same line.
_httpx_logger = logging.getLogger("httpx")
_PORTS = {b"http": 80, b"https": 443}
_Origin = tuple[bytes, str, int]


class VendorTransport(httpx.AsyncBaseTransport):
    def __init__(
        self,
        *,
        limits: httpx.Limits,
        verify: ssl.SSLContext | bool = True,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
    ) -> None:
        self.limits = limits
        self.max_answer_bytes = max_answer_bytes
        self.ssl_context = httpx.create_ssl_context(verify=verify)
        self._slots = asyncio.Semaphore(limits.max_connections or 1_000_000)
        self._idle: dict[_Origin, list[Connection]] = {}
        self._expiry = limits.keepalive_expiry or 5.0
        self._keep = limits.max_keepalive_connections
        self._closed = False

    async def exchange(self, request: httpx.Request) -> httpx.Response:
        """``request`` sent as httpx framed it and its answer read whole, as
        ``AsyncClient.send`` and ``aread`` would give it. The caller bounds the whole
        call (the upstream layer's deadline)."""
        failure: httpx.TransportError
        try:
            await request.aread()
            message = request_bytes(request)
            connection = await self._connection(request)
            reuse = False
            try:
                _send(connection, request, message)
                answer = await connection.answer()
                reuse = answer.keep_alive
            finally:
                self._release(connection, reuse)
        except WireFailure as exc:
            failure = exc.kind(exc.message, request=request)
        except Exception:
            failure = httpx.NetworkError("the request failed", request=request)
        else:
            return _response(request, answer)
        # Raised outside the handler: no context, so nothing of a lower layer in tracebacks.
        raise failure

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """httpx's client's way in: the same call, the body read when httpx reads it
        (under the upstream layer's deadline)."""
        failure: httpx.TransportError
        try:
            await request.aread()
            message = request_bytes(request)
            connection = await self._connection(request)
            try:
                _send(connection, request, message)
                head = await connection.head()
            except BaseException:
                self._release(connection, False)
                raise
        except WireFailure as exc:
            failure = exc.kind(exc.message, request=request)
        except Exception:
            failure = httpx.NetworkError("the request failed", request=request)
        else:
            return httpx.Response(
                head.status,
                headers=head.headers,
                stream=_Body(self, connection, request),
                extensions=_extensions(head),
            )
        raise failure

    async def aclose(self) -> None:
        self._closed = True
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()

    async def _connection(self, request: httpx.Request) -> Connection:
        """A connection to the request's origin, holding one of the pool's slots."""
        timeout = request.extensions.get("timeout", {})
        if self._slots.locked():
            try:
                async with asyncio.timeout(timeout.get("pool")):
                    await self._slots.acquire()
            except TimeoutError:
                raise WireFailure(httpx.PoolTimeout, "no connection was free in time") from None
        else:
            await self._slots.acquire()
        try:
            return await self._open(request, timeout)
        except BaseException:
            self._slots.release()
            raise

    async def _open(self, request: httpx.Request, timeouts: dict[str, Any]) -> Connection:
        url = request.url
        scheme = url.raw_scheme
        default_port = _PORTS.get(scheme)
        # The host as DNS and TLS know it (an international name in its ASCII form).
        host = url.raw_host.decode("ascii")
        if default_port is None or not host:
            raise WireFailure(httpx.ConnectError, "the vendor URL cannot be used")
        port = url.port or default_port
        origin = (scheme, host, port)
        idle = self._idle.get(origin)
        if idle:
            now = asyncio.get_running_loop().time()
            while idle:
                connection = idle.pop()
                if connection.reusable(now, self._expiry):
                    return connection
                connection.close()
        connection = Connection(origin, self.max_answer_bytes)
        tls = self.ssl_context if scheme == b"https" else None
        try:
            async with asyncio.timeout(timeouts.get("connect")):
                await asyncio.get_running_loop().create_connection(
                    lambda: connection, host, port, ssl=tls
                )
        except TimeoutError:
            raise WireFailure(httpx.ConnectTimeout, "connecting timed out") from None
        except OSError:
            # Refused, unresolvable, or a TLS handshake or certificate that failed.
            raise WireFailure(httpx.ConnectError, "the connection failed") from None
        return connection

    def _release(self, connection: Connection, reuse: bool) -> None:
        self._slots.release()
        if reuse and not connection.closed and not self._closed:
            idle = self._idle.setdefault(connection.origin, [])
            if self._keep is None or len(idle) < self._keep:
                idle.append(connection)
                return
        connection.close()


def _send(connection: Connection, request: httpx.Request, message: bytes) -> None:
    timeout = request.extensions.get("timeout", {})
    head_only = request.method == "HEAD"
    connection.send(message, timeout.get("read"), head_only=head_only)


def _extensions(answer: Answer) -> dict[str, Any]:
    extensions: dict[str, Any] = {"http_version": answer.http_version}
    if answer.reason:
        extensions["reason_phrase"] = answer.reason
    return extensions


def _response(request: httpx.Request, answer: Answer) -> httpx.Response:
    response = httpx.Response(
        answer.status,
        headers=answer.headers,
        stream=httpx.ByteStream(answer.body),
        request=request,
        extensions=_extensions(answer),
    )
    if answer.coded:
        # Decoded as httpx decodes it (Content-Encoding): a DecodingError here too.
        response.read()
    else:
        _read_as_is(response, answer.body)
    if _httpx_logger.isEnabledFor(logging.INFO):
        _httpx_logger.info(
            'HTTP Request: %s %s "%s %d %s"',
            request.method,
            request.url,
            response.http_version,
            response.status_code,
            response.reason_phrase,
        )
    return response


def _read_as_is(response: httpx.Response, body: bytes) -> None:
    """The state ``response.read()`` leaves a response in whose body has no content
    coding, set at once: httpx's read goes through a generator, a decoder and two
    chunkers for bytes it hands back unchanged (about a tenth of a vendor call's CPU
    in this layer). tests/test_vendor_answers.py compares the two."""
    response._content = body
    response._decoder = IdentityDecoder()
    response.is_stream_consumed = True
    response._num_bytes_downloaded = len(body)
    response.is_closed = True


class _Body(httpx.AsyncByteStream):
    """An answer's body for httpx's client: read whole when httpx reads it; closed
    before that, its connection is closed and its slot freed."""

    def __init__(
        self, pool: VendorTransport, connection: Connection, request: httpx.Request
    ) -> None:
        self._pool = pool
        self._connection: Connection | None = connection
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        connection = self._connection
        if connection is None:
            return
        failure: httpx.TransportError
        reuse = False
        try:
            try:
                answer = await connection.answer()
                reuse = answer.keep_alive
            finally:
                self._connection = None
                self._pool._release(connection, reuse)
        except WireFailure as exc:
            failure = exc.kind(exc.message, request=self._request)
        except Exception:
            failure = httpx.NetworkError("the request failed", request=self._request)
        else:
            if answer.body:
                yield answer.body
            return
        raise failure

    async def aclose(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            self._pool._release(connection, False)


class _PathOnly(logging.Filter):
    """httpx logs each request's full URL at INFO; queries may hold keys or customer
    data, so the record keeps only the scheme, host and path."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                arg.copy_with(query=None, fragment=None) if isinstance(arg, httpx.URL) else arg
                for arg in record.args
            )
        return True


logging.getLogger("httpx").addFilter(_PathOnly())


def vendor_transport(limits: httpx.Limits) -> httpx.AsyncBaseTransport:
    return VendorTransport(limits=limits)
