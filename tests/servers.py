"""Real HTTP servers on loopback for the clients that cannot speak ASGI (requests, node)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Literal

import uvicorn
from starlette.types import ASGIApp


@contextmanager
def serve_in_thread(app: ASGIApp, *, lifespan: Literal["on", "off"] = "off") -> Iterator[str]:
    """``app`` served on a free loopback port; its lifespan (the gateway's pollers) runs
    only when asked: ``lifespan="on"``."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="warning", lifespan=lifespan
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@asynccontextmanager
async def serve_in_loop(app: ASGIApp) -> AsyncIterator[str]:
    """``app`` served on a free loopback port in the test's own event loop, so the test
    can reach the app's loop-bound state (its change bus) directly; no lifespan."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve())
    started = asyncio.ensure_future(_started(server))
    done, _ = await asyncio.wait({serving, started}, timeout=10, return_when="FIRST_COMPLETED")
    if started not in done:
        started.cancel()
        raise RuntimeError("the test server did not start")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(serving, 10)


async def _started(server: uvicorn.Server) -> None:
    while not server.started:  # noqa: ASYNC110 - uvicorn sets a flag, no event
        await asyncio.sleep(0.01)


@dataclass
class SlowVendor:
    """An HTTP/1.1 server on loopback answering every request with ``answer`` as JSON
    after ``delay`` seconds; the delay may be changed while it runs."""

    delay: float
    answer: object
    url: str = ""
    requests: int = 0
    handlers: set[asyncio.Task[None]] = field(default_factory=set)
    # The most connections open at once.
    peak: int = 0
    arrivals: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def received(self, count: int) -> None:
        """Returns once ``count`` requests have arrived in all."""
        async with self.arrivals:
            await self.arrivals.wait_for(lambda: self.requests >= count)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        handler = asyncio.current_task()
        assert handler is not None
        self.handlers.add(handler)
        self.peak = max(self.peak, len(self.handlers))
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                await reader.readexactly(length)
                self.requests += 1
                async with self.arrivals:
                    self.arrivals.notify_all()
                await asyncio.sleep(self.delay)
                body = json.dumps(self.answer).encode()
                writer.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    + f"Content-Length: {len(body)}\r\n\r\n".encode()
                    + body
                )
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            # Cancelled only when the server shuts down: the handler simply ends.
            pass
        finally:
            writer.close()
            self.handlers.discard(handler)


@asynccontextmanager
async def slow_vendor(*, delay: float, answer: object) -> AsyncIterator[SlowVendor]:
    slow = SlowVendor(delay=delay, answer=answer)
    server = await asyncio.start_server(slow.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    slow.url = f"http://127.0.0.1:{port}"
    async with server:
        yield slow
        server.close()
        # Handlers still sleeping on abandoned requests end with the server.
        for handler in list(slow.handlers):
            handler.cancel()
        await asyncio.gather(*slow.handlers, return_exceptions=True)
