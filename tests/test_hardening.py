"""Hostile or odd input at the edges: every case is a typed error, never a 500."""

from __future__ import annotations

import base64

import orjson
import pytest

from gateway.core.ids import GlobalId
from gateway.registry import VENDORS
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho.settings import ZohoSettings
from tests.conftest import Gateway, codes

NODE = "query($id: ID!) { node(id: $id) { id } }"


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "text",
    [
        "invoiced:Task:²",
        "fakturoid:Todo:١٢",
        "zoho:Project:²",
        "zoho:ProjectTask:1/²",
        "readydesk:Invoice:" + "9" * 5000,
        "invoiced:Task:-1",
    ],
)
async def test_odd_ids_are_bad_input_before_any_upstream_call(gateway: Gateway, text: str) -> None:
    body = await gateway.execute(NODE, {"id": raw_id(text)}, accounting=True)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_naive_times_are_refused(gateway: Gateway) -> None:
    create = await gateway.execute(
        """mutation { createTask(input: {name: "x", action: PHONE,
                                         dueDate: "2026-05-01T12:00:00"}) { task { id } } }"""
    )
    assert codes(create) == ["BAD_USER_INPUT"]
    mixed = await gateway.execute(
        """{ workItems(filter: {dueBefore: "2026-01-01T00:00:00Z",
                                dueAfter: "2025-01-01T00:00:00"}) { nodes { id } } }"""
    )
    assert codes(mixed) == ["BAD_USER_INPUT"]
    assert mixed["errors"][0]["extensions"]["field"] == "dueAfter"


def forged(fingerprint: str, state: object) -> str:
    payload = orjson.dumps({"q": fingerprint, "s": state})
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


async def test_forged_work_cursors_are_bad_input(gateway: Gateway) -> None:
    first = await gateway.execute("{ workItems(first: 1) { pageInfo { endCursor } } }")
    cursor = first["data"]["workItems"]["pageInfo"]["endCursor"]
    padded = cursor + "=" * (-len(cursor) % 4)
    fingerprint = orjson.loads(base64.urlsafe_b64decode(padded))["q"]
    for state in (
        "zzz",
        {"invoiced": ["abc", 0]},
        {"fakturoid": ["0", 0]},
        {"zoho": [None, -2]},
        {"invoiced": [1, 0]},
        {"nobody": [None, 0]},
    ):
        body = await gateway.execute(
            "query($a: String) { workItems(first: 3, after: $a) { nodes { id } } }",
            {"a": forged(fingerprint, state)},
        )
        assert codes(body) == ["BAD_USER_INPUT"], state


async def test_unknown_invoiced_action_does_not_break_the_list(gateway: Gateway) -> None:
    store = gateway.sandbox_app("/invoiced").state.store
    store.tasks[700]["action"] = "sms"
    body = await gateway.execute("{ tasks(first: 2) { nodes { invoicedId action } } }")
    assert "errors" not in body
    assert body["data"]["tasks"]["nodes"][0] == {"invoicedId": 700, "action": None}


async def test_absurd_zoho_amounts_are_bad_input(gateway: Gateway) -> None:
    project = (await gateway.execute("{ projects(first: 1) { nodes { id } } }"))["data"]
    project_id = project["projects"]["nodes"][0]["id"]
    body = await gateway.execute(
        """mutation($input: CreateProjectTaskInput!) {
             createProjectTask(input: $input) { projectTask { id } } }""",
        {"input": {"projectId": project_id, "name": "x", "rate": "1E+5000"}},
        accounting=True,
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0


def test_an_empty_zoho_access_token_means_refresh_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOHO_ACCESS_TOKEN", "")
    assert ZohoSettings().uses_static_token is False
    monkeypatch.setenv("ZOHO_ACCESS_TOKEN", "1000.abc")
    assert ZohoSettings().uses_static_token is True


def test_number_keys_are_plain_short_ascii_digits() -> None:
    assert GlobalId(INVOICED, "Task", "0788").number() == 788


async def test_filters_vendors_cannot_meet_cost_no_page_walks(gateway: Gateway) -> None:
    body = await gateway.execute(
        """{ workItems(filter: {vendors: [FAKTUROID],
                                dueBefore: "2030-01-01T00:00:00Z"}) { nodes { id } } }""",
        accounting=True,
    )
    assert body["data"]["workItems"]["nodes"] == []
    todo_pages = [
        c for c in body["extensions"]["upstreamCalls"]["calls"] if c["path"].endswith("todos.json")
    ]
    assert todo_pages == []


async def test_no_secret_reaches_the_logs_on_the_happy_path(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    from gateway.http.sandboxes import sandbox_env

    body = await gateway.execute(
        """{ tasks(first: 1) { nodes { id } } projects(first: 1) { nodes { id } }
             invoices(first: 1) { nodes { id lineItems { title } } }
             todos(first: 1) { nodes { id } } workItems(first: 5) { nodes { id } } }""",
        accounting=True,
    )
    assert "errors" not in body
    secrets = [
        value
        for name, value in sandbox_env("http://sandbox").items()
        if name.endswith(("_KEY", "_SECRET", "_TOKEN"))
    ]
    zoho_tokens = list(gateway.sandbox_app("/zoho").state.store.tokens)
    assert secrets and zoho_tokens
    logged = caplog.text + str(body)
    for secret in secrets + zoho_tokens:
        assert secret not in logged
    assert any(record.levelname == "DEBUG" for record in caplog.records)


@pytest.mark.parametrize(
    ("vendor", "override", "query", "token_path"),
    [
        ("zoho", "ZOHO_CLIENT_SECRET", "{ projects { nodes { id } } }", "oauth/v2/token"),
        ("fakturoid", "FAKTUROID_CLIENT_SECRET", "{ todos { nodes { id } } }", "oauth/token"),
    ],
)
async def test_refused_credentials_are_not_presented_again_at_once(
    monkeypatch: pytest.MonkeyPatch, vendor: str, override: str, query: str, token_path: str
) -> None:
    import httpx

    from gateway.http.app import create_app
    from gateway.http.sandboxes import create_sandbox_app
    from tests.conftest import gateway_settings

    settings = gateway_settings(monkeypatch, **{override: "wrong-secret"})
    transport = httpx.ASGITransport(app=create_sandbox_app())
    app = create_app(settings, transports=dict.fromkeys(VENDORS, transport))
    from gateway.registry import PLUGINS

    plugin = next(p for p in PLUGINS if p.vendor.value == vendor)
    adapter = app.state.adapters.of(plugin)
    tokens = adapter.auth if vendor == "zoho" else adapter.tokens
    now = [1000.0]
    tokens.clock = lambda: now[0]

    async def token_calls() -> tuple[list[str], int]:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://gateway"
        ) as client:
            response = await client.post(
                "/graphql", json={"query": query}, headers={"X-Upstream-Accounting": "1"}
            )
        body = response.json()
        calls = body["extensions"]["upstreamCalls"]["calls"]
        return codes(body), sum(1 for c in calls if c["path"].endswith(token_path))

    assert await token_calls() == (["UPSTREAM_AUTH"], 1)
    assert await token_calls() == (["UPSTREAM_AUTH"], 0)
    now[0] += 31
    assert await token_calls() == (["UPSTREAM_AUTH"], 1)
