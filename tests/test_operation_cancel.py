"""The operation time limit, and resolvers cancelled when the client disconnects."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import orjson
import pytest
from starlette.types import Message

from gateway.vendors.invoiced import PLUGIN as INVOICED_PLUGIN
from gateway.vendors.invoiced.client import InvoicedAdapter
from tests.conftest import codes
from tests.harness import app_of, gateway_with

QUERY = "{ tasks(first: 1) { totalCount } }"


class BlockingTransport(httpx.AsyncBaseTransport):
    """A vendor that never answers: each request waits until it is cancelled."""

    def __init__(self) -> None:
        self.started = asyncio.Event()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.started.set()
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


def watch_resolver(monkeypatch: pytest.MonkeyPatch, adapter: Any) -> list[str]:
    """Record how the resolver's await on the adapter ended."""
    outcomes: list[str] = []
    real = adapter.list_tasks

    async def list_tasks(*args: Any, **kwargs: Any) -> Any:
        try:
            return await real(*args, **kwargs)
        except asyncio.CancelledError:
            outcomes.append("cancelled")
            raise

    monkeypatch.setattr(adapter, "list_tasks", list_tasks)
    return outcomes


async def test_an_operation_over_its_time_limit_is_cancelled(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocking = BlockingTransport()
    async with gateway_with(monkeypatch, blocking, GATEWAY_OPERATION_TIMEOUT="0.3") as gateway:
        adapter = app_of(gateway).state.adapters.of(INVOICED_PLUGIN)
        assert isinstance(adapter, InvoicedAdapter)
        outcomes = watch_resolver(monkeypatch, adapter)
        # The upstream timeout (10 s) would otherwise end it: this bound guards a hang.
        body = await asyncio.wait_for(gateway.execute(QUERY), timeout=5)
    assert codes(body) == ["OPERATION_TIMEOUT"]
    assert body["data"] is None
    assert outcomes == ["cancelled"]


async def test_resolvers_are_cancelled_when_the_client_disconnects(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocking = BlockingTransport()
    async with gateway_with(monkeypatch, blocking) as gateway:
        app = app_of(gateway)
        outcomes = watch_resolver(monkeypatch, app.state.adapters.of(INVOICED_PLUGIN))
        body = orjson.dumps({"query": QUERY})
        hang_up = asyncio.Event()
        sent: list[Message] = []
        messages = [{"type": "http.request", "body": body, "more_body": False}]

        async def receive() -> Message:
            if messages:
                return messages.pop(0)
            await hang_up.wait()
            return {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "POST",
            "scheme": "http",
            "path": "/graphql",
            "raw_path": b"/graphql",
            "query_string": b"",
            "root_path": "",
            "headers": [
                (b"host", b"gateway"),
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        request = asyncio.create_task(app(scope, receive, send))
        await asyncio.wait_for(blocking.started.wait(), timeout=5)
        assert outcomes == []
        hang_up.set()
        await asyncio.wait_for(request, timeout=5)
    assert outcomes == ["cancelled"]
    assert sent == []  # nobody is left to answer
