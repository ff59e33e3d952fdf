"""One HTTP/1.1 connection to a vendor: a request written as bytes
(:func:`request_bytes`), its answer read by httptools' parser (llhttp, the parser
uvicorn serves with) into memory.

The pool in :mod:`gateway.upstream.transport` owns connections; a connection carries
one request at a time, and is fit to carry the next only once its answer was read
whole and both sides meant to keep it open (:attr:`Answer.keep_alive`). Whatever goes
wrong is a :class:`WireFailure` naming the httpx error class and a message written
here: nothing of the request or of the vendor's bytes is in it.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import cast

import httptools
import httpx


class UnreadableResponse(httpx.RemoteProtocolError):
    """The vendor's bytes were not HTTP: a bad status line or header, broken chunked
    framing, binary garbage (a TLS server spoken to in plain HTTP). The vendor did
    answer, with something no retry will make sense of."""


class AnswerTooLarge(httpx.RemoteProtocolError):
    """The vendor's answer was longer than the gateway reads (:data:`MAX_ANSWER_BYTES`):
    refused as soon as its length says so, or once that many bytes came."""


# Far above any page the vendors send (a few hundred kilobytes at most), and far below
# what would hurt a process: a broken or hostile upstream cannot fill the memory.
MAX_ANSWER_BYTES = 32 * 1024 * 1024


class WireFailure(Exception):
    """How a call failed: the httpx error to raise, and its gateway-written message."""

    def __init__(self, kind: type[httpx.TransportError], message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    reason: bytes
    http_version: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes
    # Content-Encoding was given: httpx decodes the body, as its client would.
    coded: bool
    # Read whole, and neither side asked to close: the connection may carry another call.
    keep_alive: bool


# Methods that carry no body: no Content-Length unless httpx gave one.
_NO_BODY = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "CONNECT"})
# Characters a query may hold as they are (RFC 3986: sub-delimiters but the ones that
# split parameters, ":", "@", "/", "?") that httpx escapes in parameters: sent as they
# are, as the vendors' documents write them (ReadyDesk's wildcard is ``cid=*``).
_ESCAPED_IN_QUERY = re.compile(rb"%(?:2[14789AaCcFf]|3[AaFf]|40)")


# Stages of a call on a connection.
_SENT, _HEAD, _DONE = 1, 2, 3
# Statuses whose answers have no body, whatever their headers say.
_BODILESS = frozenset({204, 304})


class Connection(asyncio.Protocol):
    """An asyncio protocol: the parser's callbacks fill in the answer of the call in
    flight, and a waiting caller is woken at the stage it waits for."""

    def __init__(self, origin: tuple[bytes, str, int], max_bytes: int = MAX_ANSWER_BYTES) -> None:
        # The pool's key: scheme, host and port.
        self.origin = origin
        self._max_bytes = max_bytes
        self._loop = asyncio.get_running_loop()
        self._parser = httptools.HttpResponseParser(self)
        self._transport: asyncio.Transport | None = None
        self._read_timeout: float | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._last_read = 0.0
        self._waiter: asyncio.Future[None] | None = None
        self._wanted = _DONE
        self._error: WireFailure | None = None
        self._stage = 0
        self.closed = False
        self.idle_since = 0.0
        self._reset(head_only=False)

    def _reset(self, *, head_only: bool) -> None:
        self._head_only = head_only
        self._reason = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body: list[bytes] = []
        self._length = 0
        self._framed = False  # Content-Length or chunked: the body's end is known
        self._coded = False
        self._until_eof = False
        self._keep_alive = False

    # The call -----------------------------------------------------------------

    def send(self, message: bytes, read_timeout: float | None, *, head_only: bool) -> None:
        assert self._transport is not None and self._stage in (0, _DONE)
        self._reset(head_only=head_only)
        self._stage = _SENT
        self._transport.write(message)
        self._read_timeout = read_timeout
        if read_timeout is not None:
            self._last_read = self._loop.time()
            self._timer = self._loop.call_at(self._last_read + read_timeout, self._check)

    async def head(self) -> Answer:
        """The status and headers, once they are in (the body is not yet)."""
        await self._reach(_HEAD)
        return self._answer(b"")

    async def answer(self) -> Answer:
        await self._reach(_DONE)
        return self._answer(b"".join(self._body))

    def reusable(self, now: float, expiry: float) -> bool:
        transport = self._transport
        fresh = now - self.idle_since < expiry
        return not self.closed and fresh and transport is not None and not transport.is_closing()

    def close(self) -> None:
        self.closed = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._transport is not None:
            self._transport.close()

    async def _reach(self, stage: int) -> None:
        if self._stage < stage and self._error is None:
            self._wanted = stage
            self._waiter = self._loop.create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        if self._error is not None:
            raise self._error

    def _answer(self, body: bytes) -> Answer:
        version = b"HTTP/" + self._parser.get_http_version().encode("ascii")
        return Answer(
            self._parser.get_status_code(),
            self._reason,
            version,
            self._headers,
            body,
            self._coded,
            self._keep_alive,
        )

    def _advance(self, stage: int) -> None:
        self._stage = stage
        if stage == _DONE and self._timer is not None:
            self._timer.cancel()
            self._timer = None
        waiter = self._waiter
        if waiter is not None and stage >= self._wanted and not waiter.done():
            waiter.set_result(None)

    def _fail(self, kind: type[httpx.TransportError], message: str) -> None:
        if self._error is None and self._stage in (_SENT, _HEAD):
            self._error = WireFailure(kind, message)
            waiter = self._waiter
            if waiter is not None and not waiter.done():
                waiter.set_exception(self._error)
        self.close()

    def _check(self) -> None:
        """The read timeout: the time since the last bytes arrived, as httpx's is."""
        assert self._read_timeout is not None
        due = self._last_read + self._read_timeout
        if self._loop.time() >= due:
            self._timer = None
            self._fail(httpx.ReadTimeout, "the answer timed out")
        else:
            self._timer = self._loop.call_at(due, self._check)

    # asyncio's callbacks --------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport, of asyncio's loop or uvloop's (not asyncio's class).
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        if self._stage not in (_SENT, _HEAD):
            # Bytes with no call waiting for them: the connection is out of step.
            self.close()
            return
        self._last_read = self._loop.time()
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserError:
            self._fail(UnreadableResponse, "the answer was not valid HTTP")

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self._stage == _HEAD and self._until_eof:
            # The body was delimited by the connection's end: that was all of it.
            self._advance(_DONE)
        elif self._stage == _HEAD:
            self._fail(httpx.ReadError, "the connection closed mid-answer")
        else:
            self._fail(httpx.ReadError, "the connection closed before an answer")
        self.close()

    # httptools' callbacks -------------------------------------------------------

    # Only the call's own answer is taken in: anything after it makes the connection
    # unfit for another call (see data_received and on_message_complete).

    def on_message_begin(self) -> None:
        if self._stage == _DONE:
            self.close()  # a second answer to one request, in the same bytes

    def on_status(self, status: bytes) -> None:
        if self._stage == _SENT:
            self._reason += status

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._stage != _SENT:
            return
        self._headers.append((name, value))
        lowered = name.lower()
        if lowered == b"content-length" and value.strip().isdigit():
            self._framed = True
            if int(value) > self._max_bytes:
                self._too_large()
        elif lowered in (b"content-length", b"transfer-encoding"):
            self._framed = True
        elif lowered == b"content-encoding":
            self._coded = True

    def on_headers_complete(self) -> None:
        status = self._parser.get_status_code()
        if 100 <= status < 200 and status != 101:
            return  # an interim answer; the real one follows
        self._until_eof = not self._framed and status not in _BODILESS
        self._advance(_HEAD)
        if self._head_only or self._parser.should_upgrade():
            # The parser would read a HEAD answer's announced body, or another protocol,
            # as this answer's: the call ends here, and so does the connection.
            self._until_eof = False
            self._advance(_DONE)
            self.close()

    def on_body(self, body: bytes) -> None:
        if self._stage == _HEAD and self._error is None:
            self._length += len(body)
            if self._length > self._max_bytes:
                self._too_large()
                return
            self._body.append(body)

    def _too_large(self) -> None:
        self._body.clear()
        self._fail(AnswerTooLarge, f"the answer was longer than {self._max_bytes} bytes")

    def on_message_complete(self) -> None:
        if self._stage == _SENT:
            self._reset(head_only=self._head_only)  # the interim answer's end
            return
        if self._stage != _HEAD:
            self.close()
            return
        self._keep_alive = self._parser.should_keep_alive() and not self._until_eof
        self.idle_since = self._loop.time()
        self._advance(_DONE)


def request_bytes(request: httpx.Request) -> bytes:
    """The request's bytes: its line and headers as httpx framed them, and its body."""
    body = request.content
    method = request.method
    target = request.url.raw_path
    if b"%" in target:
        path, mark, query = target.partition(b"?")
        target = path + mark + _ESCAPED_IN_QUERY.sub(_unescaped, query)
    lines = [b"%s %s HTTP/1.1" % (method.encode("ascii"), target)]
    length = False
    for name, value in request.headers.raw:
        lowered = name.lower()
        if lowered == b"transfer-encoding":
            continue  # the body goes as bytes, with its length
        length = length or lowered == b"content-length"
        lines.append(name + b": " + value)
    if body and not length:
        lines.append(b"Content-Length: %d" % len(body))
    elif not length and method not in _NO_BODY:
        lines.append(b"Content-Length: 0")
    head = b"\r\n".join(lines)
    breaks = len(lines) - 1
    if head.count(b"\n") != breaks or head.count(b"\r") != breaks:
        # A line break inside a header would split the request in two.
        raise WireFailure(httpx.LocalProtocolError, "the request has an invalid header")
    return head + b"\r\n\r\n" + body


def _unescaped(match: re.Match[bytes]) -> bytes:
    return bytes((int(match[0][1:], 16),))
