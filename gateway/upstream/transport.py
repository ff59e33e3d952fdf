"""The transport under every vendor's httpx client: aiohttp's connection pool.

httpx stays the interface: adapters build ``httpx`` requests and read
``httpx.Response`` objects, and tests swap the transport (``MockTransport``,
``ASGITransport`` to the sandboxes). Only the bytes go through aiohttp, whose
pool costs about half the CPU per upstream call of httpcore on anyio (the
profile of a ten-task list: httpx and httpcore 40% of the gateway's CPU with
httpcore, 27% with aiohttp; 412 to 614 requests a second on one core).

What this layer adds to httpx-aiohttp:

- Requests go out as httpx framed them. A body is always sent as bytes with its
  ``Content-Length`` (a stream handed to aiohttp would go chunked, and a GET
  would carry a ``0`` chunk that a server reading no GET body takes for the next
  request), and aiohttp never invents a ``Content-Type`` for a bodiless POST.
- Every failure of the HTTP client, while sending or while reading the body,
  becomes an ``httpx.TransportError`` written here, so the upstream layer can map
  it. httpx-aiohttp lets some aiohttp errors through unmapped (a bad status line
  is a ``ClientResponseError``) and maps others by class in ways that mislead (a
  reset connection comes out as ``ConnectTimeout``). Its messages, and aiohttp's
  in the exception chain, repeat the request URL, query string and all, and
  ReadyDesk's key travels in the query: so the error raised here carries only
  gateway-written text and no cause or context, and tracebacks that log it
  print nothing of the request.
- httpx's own request log line names the full URL; a filter cuts it to the path.
- :meth:`VendorTransport.exchange`: the whole call, the answer read into memory,
  straight on the aiohttp session. httpx's client and stream layers around a call
  (auth and redirect handling, the bound stream, chunk by chunk reading through two
  wrappers) cost about a tenth of the CPU of a request making one vendor call; the
  upstream layer calls this when its client would add nothing to the call, and
  ``httpx.AsyncClient.send`` otherwise (per-call auth, an injected transport).
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
from aiohttp import hdrs, http_exceptions
from httpx._decoders import IdentityDecoder
from httpx_aiohttp import AiohttpTransport


class UnreadableResponse(httpx.RemoteProtocolError):
    """The vendor's bytes were not HTTP: a bad status line or header, broken chunked
    framing, binary garbage (a TLS server spoken to in plain HTTP). The vendor did
    answer, with something no retry will make sense of."""


# Where httpx's client logs each call it sends; the direct exchange logs the same line.
_httpx_logger = logging.getLogger("httpx")
_HTTP_1_1 = b"HTTP/1.1"


class VendorTransport(AiohttpTransport):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # aiohttp's timeouts for httpx's, by the timeout dict a request carries (each
        # vendor's client gives every call the same one).
        self._timeouts: dict[tuple[float | None, ...], aiohttp.ClientTimeout] = {}

    def get_client(self) -> aiohttp.ClientSession:
        limit = self.limits.max_connections
        connector = aiohttp.TCPConnector(
            limit=limit if limit is not None else 0,
            keepalive_timeout=self.limits.keepalive_expiry or 15.0,
            ssl=self.ssl_context,
        )
        # Content-Type comes from httpx or not at all: aiohttp's default for a
        # POST without one (application/octet-stream) is a type no vendor documents.
        # No cookie jar: a cookie one vendor answer set would ride on every later call,
        # made for any client (gateway.upstream.framing.VendorClient keeps none either).
        return aiohttp.ClientSession(
            connector=connector,
            skip_auto_headers=("Content-Type",),
            cookie_jar=aiohttp.DummyCookieJar(),
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        failure: httpx.TransportError
        try:
            # A stream is read into bytes first, so httpx-aiohttp sends ``content``
            # with its length instead of passing the stream on to be chunked.
            await request.aread()
            response = await super().handle_async_request(request)
        except Exception as exc:
            failure = _failure(exc, request)
        else:
            if isinstance(response.stream, httpx.AsyncByteStream):
                response.stream = _Body(response.stream, request)
            return response
        # Raised outside the handler: no context, so no aiohttp message in tracebacks.
        raise failure

    async def exchange(self, request: httpx.Request) -> httpx.Response:
        """``request`` sent as httpx framed it and its answer read whole, as
        ``AsyncClient.send`` and ``aread`` would give it: the same bytes out, the same
        response, the same failures. The caller bounds the whole call (the upstream
        layer's deadline): cancelled at any point, aiohttp closes the connection or
        gives its pool slot back."""
        failure: httpx.TransportError
        try:
            await request.aread()
            answer = await self._session().request(
                request.method,
                str(request.url),
                headers=request.headers,
                data=request.content or None,
                allow_redirects=False,
                auto_decompress=False,
                compress=False,
                timeout=self._timeout(request),
            )
        except Exception as exc:
            failure = _failure(exc, request)
        else:
            return await _answer(request, answer)
        # Raised outside the handler: no context, so no aiohttp message in tracebacks.
        raise failure

    def _session(self) -> aiohttp.ClientSession:
        if not isinstance(self.client, aiohttp.ClientSession):
            self.client = self.get_client()
        return self.client

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """httpx's timeouts as httpx-aiohttp hands them to aiohttp."""
        timeout = request.extensions.get("timeout", {})
        key = (timeout.get("connect"), timeout.get("read"), timeout.get("pool"))
        found = self._timeouts.get(key)
        if found is None:
            found = aiohttp.ClientTimeout(sock_connect=key[0], sock_read=key[1], connect=key[2])
            self._timeouts[key] = found
        return found


async def _answer(request: httpx.Request, answer: aiohttp.ClientResponse) -> httpx.Response:
    failure: httpx.TransportError
    try:
        try:
            body = await answer.read()
        finally:
            # A body not read to its end closes the connection rather than pool it.
            await answer.__aexit__(None, None, None)
    except Exception as exc:
        failure = _failure(exc, request)
    else:
        return _response(request, answer, body)
    raise failure


def _response(
    request: httpx.Request, answer: aiohttp.ClientResponse, body: bytes
) -> httpx.Response:
    extensions = {"http_version": _HTTP_1_1}
    if answer.reason:
        extensions["reason_phrase"] = answer.reason.encode()
    response = httpx.Response(
        answer.status,
        headers=answer.raw_headers,
        stream=httpx.ByteStream(body),
        request=request,
        extensions=extensions,
    )
    if hdrs.CONTENT_ENCODING in answer.headers:
        # Decoded as httpx decodes it (Content-Encoding): a DecodingError here too.
        response.read()
    else:
        _read_as_is(response, body)
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
    """The response body, with read failures mapped as the request's are."""

    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self._inner = inner
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = self._inner.__aiter__()
        while True:
            failure: httpx.TransportError
            try:
                chunk = await chunks.__anext__()
            except StopAsyncIteration:
                return
            except Exception as exc:
                failure = _failure(exc, self._request)
            else:
                yield chunk
                continue
            raise failure

    async def aclose(self) -> None:
        failure: httpx.TransportError
        try:
            await self._inner.aclose()
        except Exception as exc:
            failure = _failure(exc, self._request)
        else:
            return
        raise failure


def _chain(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps, outermost first; httpx-aiohttp's own re-raises are
    skipped so that the aiohttp error under them decides."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if not (isinstance(current, httpx.HTTPError) and current.__cause__ is not None):
            yield current
        current = current.__cause__ or current.__context__


def _failure(exc: BaseException, request: httpx.Request) -> httpx.TransportError:
    """A gateway-worded httpx error for whatever the HTTP client raised.

    Couldn't talk (connect, reset, closed early, timed out) is a ``NetworkError``
    or a ``TimeoutException``; bytes that are not HTTP are ``UnreadableResponse``.
    """
    for error in _chain(exc):
        if isinstance(error, aiohttp.ConnectionTimeoutError):
            return httpx.ConnectTimeout("connecting timed out", request=request)
        if isinstance(error, TimeoutError | httpx.TimeoutException):
            return httpx.ReadTimeout("the answer timed out", request=request)
        if isinstance(error, aiohttp.ClientConnectorError | ssl.SSLError):
            # Refused, unresolvable, or a TLS handshake or certificate that failed.
            return httpx.ConnectError("the connection failed", request=request)
        if isinstance(error, aiohttp.InvalidURL | httpx.UnsupportedProtocol):
            return httpx.ConnectError("the vendor URL cannot be used", request=request)
        if isinstance(error, aiohttp.ClientPayloadError):
            # aiohttp wraps a body cut short by the connection ending (a length or
            # chunk never completed) in this; the conversation broke off.
            return httpx.ReadError("the connection closed mid-answer", request=request)
        if isinstance(error, aiohttp.ClientResponseError | http_exceptions.HttpProcessingError):
            # The parser refused the answer (status line, headers, chunk sizes).
            return UnreadableResponse("the answer was not valid HTTP", request=request)
        if isinstance(error, aiohttp.ServerDisconnectedError):
            return httpx.ReadError("the connection closed before an answer", request=request)
        if isinstance(error, aiohttp.ClientConnectionError | OSError):
            return httpx.ReadError("the connection failed", request=request)
        if isinstance(error, httpx.TransportError):
            return type(error)("the request failed", request=request)
    return httpx.NetworkError("the request failed", request=request)


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
