"""Each vendor's connection pool is sized by its settings (`<VENDOR>_MAX_CONNECTIONS`),
whose defaults are what the vendor allows: reads beyond it wait for a connection
instead of opening more. Real sockets: a local vendor that answers slowly counts
the connections open at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.invoiced.settings import InvoicedSettings
from gateway.vendors.zoho.settings import ZohoSettings
from tests.conftest import gateway_settings
from tests.servers import SlowVendor, slow_vendor

TASK: dict[str, object] = {"id": 7, "name": "Call customer", "action": "phone", "complete": False}
QUERY = "query($id: ID!) { task(id: $id) { name } }"


@pytest.fixture
async def vendor() -> AsyncIterator[SlowVendor]:
    async with slow_vendor(delay=0.3, answer=TASK) as slow:
        yield slow


async def _peak_connections(
    monkeypatch: pytest.MonkeyPatch, vendor: SlowVendor, reads: int, **env: str
) -> int:
    settings = gateway_settings(
        monkeypatch,
        INVOICED_API_URL=vendor.url,
        GATEWAY_CACHE="false",
        GATEWAY_COLLAPSE_READS="false",
        **env,
    )
    app = create_app(settings)  # the vendor's real pool
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:

            async def read(number: int) -> None:
                variables = {"id": encode_id(INVOICED, "Task", number)}
                answer = await client.post(
                    "/graphql", json={"query": QUERY, "variables": variables}
                )
                assert answer.json()["data"] == {"task": {"name": "Call customer"}}

            await asyncio.gather(*(read(number) for number in range(1, reads + 1)))
    finally:
        await app.state.adapters.aclose()
    return vendor.peak


async def test_the_pool_holds_at_most_the_configured_connections(
    monkeypatch: pytest.MonkeyPatch, vendor: SlowVendor
) -> None:
    peak = await _peak_connections(monkeypatch, vendor, 12, INVOICED_MAX_CONNECTIONS="3")
    assert peak == 3
    assert vendor.requests == 12


async def test_the_default_pool_opens_as_many_as_the_vendor_allows(
    monkeypatch: pytest.MonkeyPatch, vendor: SlowVendor
) -> None:
    # Invoiced allows 20 requests in flight per key: 30 reads at once open 20.
    peak = await _peak_connections(monkeypatch, vendor, 30)
    assert peak == InvoicedSettings.model_fields["max_connections"].default == 20


def test_each_vendor_declares_its_own_default() -> None:
    assert ZohoSettings.model_fields["max_connections"].default == 10
