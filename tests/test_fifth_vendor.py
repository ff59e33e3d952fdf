"""A fifth vendor is one folder: the Acme Desk fixture (tests/fixtures/acme_vendor),
not in the registry, joins a gateway built from the registry's plugins plus its own,
and gets its schema part, loaders, sandbox, cost rules and the contract suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gateway.api.schema import build_schema
from gateway.config import Settings
from gateway.core.ids import encode_id
from gateway.registry import PLUGINS
from tests.conftest import Gateway, codes, gateway_settings, running_gateway
from tests.fixtures.acme_vendor import ACME
from tests.fixtures.acme_vendor import PLUGIN as ACME_PLUGIN
from tests.test_adapter_contract import (
    CASES,
    FAULTS,
    VendorCase,
    check_fault,
    check_refused_credentials,
)

WITH_ACME = (*PLUGINS, ACME_PLUGIN)
ACME_CASE = VendorCase(ACME_PLUGIN)
TICKETS = (
    "{ tickets(first: 2) { totalCount pageInfo { hasNextPage } nodes { id acmeId subject } } }"
)


@pytest.fixture
async def gateway(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(monkeypatch, WITH_ACME)) as running:
        yield running


def test_the_fixture_vendor_is_not_in_the_served_schema() -> None:
    assert "Ticket" not in build_schema().as_str()
    with_acme = build_schema(WITH_ACME).as_str()
    assert "tickets(first: Int = 20, after: String = null): TicketConnection" in with_acme
    # Everything else is as served.
    assert with_acme.replace("\n", " ").count("type Query") == 1
    assert "workItems" in with_acme and "projects" in with_acme


async def test_a_query_reaches_the_fifth_vendor(gateway: Gateway) -> None:
    body = await gateway.execute(TICKETS, accounting=True)
    assert "errors" not in body, body
    page = body["data"]["tickets"]
    assert page["totalCount"] == 7 and page["pageInfo"]["hasNextPage"] is True
    assert [node["acmeId"] for node in page["nodes"]] == [1, 2]
    assert body["extensions"]["upstreamCalls"]["byVendor"] == {
        "acme": {"count": 1, "durationMs": pytest.approx(0, abs=10_000)}
    }
    # A global id of the new vendor resolves through `node`, from the loader primed above.
    ticket = encode_id(ACME, "Ticket", 2)
    node = await gateway.execute(
        "query($id: ID!) { node(id: $id) { ... on Ticket { subject } } }", {"id": ticket}
    )
    assert node["data"]["node"]["subject"] == page["nodes"][1]["subject"]
    missing = await gateway.execute(
        "query($id: ID!) { ticket(id: $id) { id } }", {"id": encode_id(ACME, "Ticket", 99)}
    )
    assert codes(missing) == ["NOT_FOUND"]
    assert missing["errors"][0]["extensions"]["vendor"] == "acme"


async def test_health_and_readiness_list_it(gateway: Gateway) -> None:
    health = (await gateway.client.get("/healthz")).json()
    assert health["vendors"][-1] == "acme"
    ready = (await gateway.client.get("/readyz")).json()
    assert ready["vendors"]["acme"]["breaker"] == "closed"


async def test_its_calls_count_against_the_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = gateway_settings(monkeypatch, WITH_ACME, GATEWAY_MAX_UPSTREAM_CALLS="2")
    async with running_gateway(settings) as gateway:
        aliases = " ".join(f"t{i}: tickets(first: 1) {{ nodes {{ id }} }}" for i in range(3))
        body = await gateway.execute("{ " + aliases + " }")
    assert codes(body) == ["OPERATION_TOO_COMPLEX"]
    assert body["errors"][0]["extensions"]["actual"] == 3


async def test_without_credentials_it_is_not_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = gateway_settings(monkeypatch, WITH_ACME, ACME_API_KEY="")
    async with running_gateway(settings) as gateway:
        body = await gateway.execute(TICKETS)
    assert codes(body) == ["VENDOR_NOT_CONFIGURED"]
    assert body["errors"][0]["extensions"]["vendor"] == "acme"


@pytest.mark.parametrize("fault", list(FAULTS), ids=str)
async def test_the_contract_holds_for_the_fifth_vendor(gateway: Gateway, fault: str) -> None:
    await check_fault(gateway, ACME_CASE, fault, [*CASES, ACME_CASE])


async def test_refused_credentials_are_upstream_auth(gateway: Gateway) -> None:
    await check_refused_credentials(gateway, ACME_CASE)


async def test_a_gateway_without_it_refuses_its_ids(settings: Settings) -> None:
    # The fixture's package is imported (its node resolver is registered), yet a
    # gateway built from the registry alone does not serve its ids.
    async with running_gateway(settings) as registry_only:
        body = await registry_only.execute(
            "query($id: ID!) { node(id: $id) { id } }", {"id": encode_id(ACME, "Ticket", 1)}
        )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["data"] == {"node": None}
