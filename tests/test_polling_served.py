"""The change pollers in a served gateway (uvicorn, its lifespan starting them): a change
made on a sandbox's ``/_admin/changes`` reaches a graphql-transport-ws subscriber of the
changed node, for each vendor; with a real redis-server, only one of two gateways polls a
vendor, and the other takes over, from the shared cursor, when the first stops."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.auth.api_keys import hash_key
from gateway.core.types import Vendor
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import PLUGINS
from gateway.state.polling import Poller
from tests.conftest import gateway_settings
from tests.redis_server import redis_server
from tests.servers import serve_in_thread
from tests.test_polling import CHANGES
from tests.test_subscriptions import (
    AUTH,
    KEYS,
    NODE_CHANGED,
    _redis_listener,
    open_socket,
    receive,
    send,
)

# Short rounds and no gateway-side quotas: the sandboxes' quotas are off too, so the
# pollers' rounds never run into a limit while the test waits for an event.
FAST = {
    "GATEWAY_POLL": "true",
    "GATEWAY_POLL_LEASE": "3",
    **{f"{v}_POLL_INTERVAL": "0.05" for v in ("INVOICED", "ZOHO", "READYDESK", "FAKTUROID")},
    "ZOHO_REQUESTS_PER_MINUTE": "0",
    "ZOHO_REQUESTS_PER_DAY": "0",
    "FAKTUROID_REQUESTS_PER_MINUTE": "0",
}


@dataclass
class Served:
    url: str
    app: Starlette
    sandbox: Starlette

    def poller(self, vendor: Vendor) -> Poller:
        [poller] = [p for p in self.app.state.pollers.pollers if p.vendor == vendor]
        return poller

    async def rounds(self, vendor: Vendor, count: int) -> None:
        """Until this gateway's poller of ``vendor`` has read ``count`` rounds."""
        # The poller lives in the server's thread and loop: no event of ours to await.
        while self.poller(vendor).rounds < count:  # noqa: ASYNC110
            await asyncio.sleep(0.01)

    async def admin(self, prefix: str, change: dict[str, Any]) -> None:
        transport = httpx.ASGITransport(app=self.sandbox)
        async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
            response = await client.post(f"{prefix}/_admin/changes", json=change)
        assert response.status_code == 200, response.text


def quotas_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOHO_SANDBOX_QUOTA", "off")
    monkeypatch.setenv("FAKTUROID_SANDBOX_QUOTA", "off")


@contextmanager
def served(
    monkeypatch: pytest.MonkeyPatch, sandbox: Starlette | None = None, **overrides: str
) -> Iterator[Served]:
    """A gateway under uvicorn with its pollers on, over ``sandbox`` (default: fresh)."""
    quotas_off(monkeypatch)
    keys = ";".join(f"{name}:{hash_key(key)}:{scopes}" for name, (key, scopes) in KEYS.items())
    settings = gateway_settings(
        monkeypatch, PLUGINS, GATEWAY_AUTH="true", GATEWAY_API_KEYS=keys, **{**FAST, **overrides}
    )
    sandbox = sandbox or create_sandbox_app(settings.plugins)
    transport = httpx.ASGITransport(app=sandbox)
    vendors = [plugin.vendor for plugin in settings.plugins]
    app = create_app(settings, transports=dict.fromkeys(vendors, transport))
    with serve_in_thread(app, lifespan="on") as url:
        yield Served(url, app, sandbox)


async def subscribe(url: str, node_id: str) -> Any:
    socket = await open_socket(url, AUTH)
    assert (await receive(socket))["type"] == "connection_ack"
    message = {"query": NODE_CHANGED, "variables": {"id": node_id}}
    await send(socket, {"id": "1", "type": "subscribe", "payload": message})
    return socket


@pytest.mark.parametrize("prefix", ["/invoiced", "/zoho", "/fakturoid", "/readydesk"])
async def test_an_admin_change_reaches_the_subscriber_of_its_node(
    monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    vendor, make_change = CHANGES[prefix]
    with served(monkeypatch) as gateway:
        change, node_id = make_change(_Stores(gateway.sandbox))  # type: ignore[arg-type]
        async with await subscribe(gateway.url, node_id) as socket:
            while gateway.app.state.changes.subscribers < 1:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
            await asyncio.wait_for(gateway.rounds(vendor, 1), 10)  # the baseline is set
            gateway.sandbox.state.sandboxes[prefix].state.clock.advance(5)
            await gateway.admin(prefix, change)
            event = await asyncio.wait_for(receive(socket), 10)
    changed = event["payload"]["data"]["nodeChanged"]
    assert (changed["id"], changed["kind"]) == (node_id, "UPDATED")


@dataclass
class _Stores:
    """What tests.test_polling's change makers read: ``sandbox_app(prefix)``."""

    sandbox: Starlette

    def sandbox_app(self, prefix: str) -> Starlette:
        app: Starlette = self.sandbox.state.sandboxes[prefix]
        return app


async def test_one_of_two_gateways_polls_and_the_other_takes_over_from_its_cursor(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    vendor, make_change = CHANGES["/readydesk"]
    with redis_server(tmp_path) as server, ExitStack() as second_stack:
        quotas_off(monkeypatch)
        sandbox = create_sandbox_app(PLUGINS)
        shared = {"sandbox": sandbox, "GATEWAY_REDIS_URL": server.url}
        with served(monkeypatch, **shared) as first:  # type: ignore[arg-type]
            await asyncio.wait_for(first.rounds(vendor, 1), 10)
            second = second_stack.enter_context(served(monkeypatch, **shared))  # type: ignore[arg-type]
            await asyncio.wait_for(first.rounds(vendor, 10), 10)
            assert second.poller(vendor).rounds == 0
        # The first stopped (giving up its lease): the second polls from now on.
        await asyncio.wait_for(second.rounds(vendor, 1), 10)
        second_stack.close()
        # A change while no gateway polls; a third one, starting from the shared cursor
        # rather than a baseline of its own, reports it, to a subscriber of a gateway
        # that does not poll (through Redis).
        change, node_id = make_change(_Stores(sandbox))  # type: ignore[arg-type]
        await second.admin("/readydesk", change)
        with served(monkeypatch, **shared, GATEWAY_POLL="false") as listener:  # type: ignore[arg-type]
            async with await subscribe(listener.url, node_id) as socket:
                while listener.app.state.changes.subscribers < 1:  # noqa: ASYNC110
                    await asyncio.sleep(0.01)
                await asyncio.wait_for(_redis_listener(server.url), 10)
                with served(monkeypatch, **shared):  # type: ignore[arg-type]
                    event = await asyncio.wait_for(receive(socket), 10)
    assert event["payload"]["data"]["nodeChanged"]["id"] == node_id
