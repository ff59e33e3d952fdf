"""A vendor seen as raw bytes on a loopback socket, and the gateway served for real.

``raw_vendor`` records every request exactly as it arrives (request head and body,
and the connection it came on) and answers it by forwarding to the sandboxes, or
with a fault. It reads request bodies by ``Content-Length`` only, as a strict
server that takes no chunked requests does: a stray body shows up as a request of
its own. ``served_gateway`` runs the gateway under uvicorn on loopback, in the
test's own event loop, with the production transport to the vendors.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import uvicorn
from starlette.applications import Starlette

from gateway.config import Settings
from gateway.http.app import create_app


@dataclass(frozen=True)
class Received:
    connection: int
    request_line: str
    headers: list[tuple[str, str]]
    body: bytes

    @property
    def method(self) -> str:
        return self.request_line.split(" ")[0]

    @property
    def target(self) -> str:
        parts = self.request_line.split(" ")
        return parts[1] if len(parts) == 3 else ""

    def header(self, name: str) -> str | None:
        values = [value for key, value in self.headers if key.lower() == name.lower()]
        return values[0] if values else None


# A fault writes what it likes to the client and ends the connection.
Fault = Callable[[asyncio.StreamWriter], Awaitable[None]]


def reset(writer: asyncio.StreamWriter) -> None:
    """Drop the connection with a TCP RST, not a FIN."""
    sock = writer.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


@dataclass
class RawVendor:
    sandbox: Starlette
    url: str = ""
    received: list[Received] = field(default_factory=list)
    # Requests whose target contains none of ``spared`` get the fault, when one is set.
    fault: Fault | None = None
    spared: tuple[str, ...] = ("/oauth/",)
    _connections: int = 0
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        self._connections += 1
        connection = self._connections
        try:
            async with httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self.sandbox), base_url="http://sandbox"
            ) as sandbox:
                while True:
                    received = await self._read(reader, connection)
                    if received is None:
                        return
                    self.received.append(received)
                    if not received.target.startswith("/"):
                        # Not a request at all: what a strict server answers, then hangs up.
                        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                        await writer.drain()
                        return
                    if self.fault is not None and not any(
                        part in received.target for part in self.spared
                    ):
                        await self.fault(writer)
                        return
                    writer.write(await _forward(sandbox, received))
                    await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.CancelledError):
            pass
        finally:
            if not writer.transport.is_closing():
                writer.close()
            self._handlers.discard(task)

    async def _read(self, reader: asyncio.StreamReader, connection: int) -> Received | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        line, *rest = head[:-4].decode("latin-1").split("\r\n")
        headers = [(name, value.strip()) for name, _, value in (h.partition(":") for h in rest)]
        length = next((int(v) for k, v in headers if k.lower() == "content-length"), 0)
        body = await reader.readexactly(length)
        return Received(connection, line, headers, body)


_HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "host"}


async def _forward(sandbox: httpx.AsyncClient, received: Received) -> bytes:
    """The sandbox's answer to ``received``, framed with a Content-Length."""
    headers = [(k, v) for k, v in received.headers if k.lower() not in _HOP_BY_HOP]
    response = await sandbox.request(
        received.method, received.target, headers=headers, content=received.body
    )
    lines = [f"HTTP/1.1 {response.status_code} {response.reason_phrase}".encode()]
    lines += [
        name + b": " + value
        for name, value in response.headers.raw
        if name.decode().lower() not in _HOP_BY_HOP
    ]
    lines.append(b"Content-Length: %d" % len(response.content))
    return b"\r\n".join(lines) + b"\r\n\r\n" + response.content


@asynccontextmanager
async def raw_vendor(sandbox: Starlette) -> AsyncIterator[RawVendor]:
    vendor = RawVendor(sandbox)
    server = await asyncio.start_server(vendor.handle, "127.0.0.1", 0)
    vendor.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    async with server:
        yield vendor
        server.close()
        for handler in list(vendor._handlers):
            handler.cancel()
        await asyncio.gather(*vendor._handlers, return_exceptions=True)


@asynccontextmanager
async def served_gateway(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The gateway under uvicorn on a loopback port (its lifespan closes the vendor
    pools), and a client for it."""
    app = create_app(settings)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    server = uvicorn.Server(config)
    serving = asyncio.ensure_future(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if serving.done():
                serving.result()
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            yield client
    finally:
        server.should_exit = True
        await serving
        sock.close()


async def graphql(
    client: httpx.AsyncClient, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    response = await client.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
