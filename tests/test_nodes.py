"""Global object identification across all four vendors."""

from __future__ import annotations

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS
from tests.conftest import Gateway, codes, gateway_settings

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

LISTS = """{
  tasks(first: 1) { nodes { id } }
  projects(first: 1) { nodes { id tasks(first: 1) { nodes { id } } } }
  invoices(first: 1) { nodes { id } }
  todos(first: 1) { nodes { id } }
}"""


async def some_ids(gateway: Gateway) -> dict[str, str]:
    data = (await gateway.execute(LISTS))["data"]
    return {
        "Task": data["tasks"]["nodes"][0]["id"],
        "Project": data["projects"]["nodes"][0]["id"],
        "ProjectTask": data["projects"]["nodes"][0]["tasks"]["nodes"][0]["id"],
        "Invoice": data["invoices"]["nodes"][0]["id"],
        "Todo": data["todos"]["nodes"][0]["id"],
    }


async def test_nodes_resolves_every_vendor_type_by_global_id(gateway: Gateway) -> None:
    ids = await some_ids(gateway)
    body = await gateway.execute(
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": list(ids.values()) * 2},
        accounting=True,
    )
    assert "errors" not in body, body
    nodes = body["data"]["nodes"]
    assert [n["__typename"] for n in nodes] == list(ids) * 2
    assert [n["id"] for n in nodes] == list(ids.values()) * 2
    by_vendor = body["extensions"]["upstreamCalls"]["byVendor"]
    # Each object once, whatever the repetition: Invoiced, Zoho (project, task), ReadyDesk.
    assert by_vendor["invoiced"]["count"] == 1
    assert by_vendor["zoho"]["count"] == 2
    assert by_vendor["readydesk"]["count"] == 1
    todo_pages = [c for c in body["extensions"]["upstreamCalls"]["calls"] if "todos" in c["path"]]
    # The todo was on the list page some_ids read: no scan (FAKTUROID_BY_ID_MAX_AGE).
    assert todo_pages == []


@pytest.mark.federation
async def test_entities_resolve_every_vendor_type(gateway: Gateway) -> None:
    ids = await some_ids(gateway)
    representations = [{"__typename": name, "id": raw} for name, raw in ids.items()]
    body = await gateway.execute(
        "query($r: [_Any!]!) { _entities(representations: $r) { __typename ... on Node { id } } }",
        {"r": representations},
    )
    assert "errors" not in body, body
    assert [e["id"] for e in body["data"]["_entities"]] == list(ids.values())


async def test_one_bad_id_nulls_only_its_own_slot(gateway: Gateway) -> None:
    ids = await some_ids(gateway)
    body = await gateway.execute(
        "query($ids: [ID!]!) { nodes(ids: $ids) { id } }",
        {"ids": [ids["Task"], "garbage", ids["Todo"]]},
    )
    nodes = body["data"]["nodes"]
    assert nodes[0]["id"] == ids["Task"] and nodes[1] is None and nodes[2]["id"] == ids["Todo"]
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["path"] == ["nodes", 1]


async def test_accounting_is_off_unless_asked(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    plain = await gateway.execute("{ tasks(first: 1) { totalCount } }")
    assert "upstreamCalls" not in plain["extensions"]
    settings = gateway_settings(monkeypatch, GATEWAY_UPSTREAM_ACCOUNTING="true")
    transport = httpx.ASGITransport(app=create_sandbox_app())
    app = create_app(settings, transports=dict.fromkeys(VENDORS, transport))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        on = await client.post("/graphql", json={"query": "{ tasks(first: 1) { totalCount } }"})
        off = await client.post(
            "/graphql",
            json={"query": "{ tasks(first: 1) { totalCount } }"},
            headers={"X-Upstream-Accounting": "0"},
        )
    assert on.json()["extensions"]["upstreamCalls"]["byVendor"]["invoiced"]["count"] == 1
    assert "upstreamCalls" not in off.json()["extensions"]
