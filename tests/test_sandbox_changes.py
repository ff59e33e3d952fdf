"""Through the gateway: a sandbox's quota, switched by its variable, comes back as
RATE_LIMITED with ``retryAfter``; an edit made on a sandbox's ``/_admin/changes`` is what
the gateway's next read returns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from gateway.core.ids import encode_id
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.readydesk import READYDESK
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes
from tests.harness import gateway_with

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")


async def admin(gateway: Gateway, prefix: str, change: dict[str, Any]) -> None:
    """Posted to the sandboxes' own app, which the gateway's GraphQL never reaches."""
    transport = httpx.ASGITransport(app=gateway.sandbox)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        response = await client.post(f"{prefix}/_admin/changes", json=change)
    assert response.status_code == 200, response.text


@pytest.mark.parametrize(
    ("variables", "query", "vendor"),
    [
        ({"ZOHO_SANDBOX_QUOTA": "2"}, "{ projects(first: 2) { nodes { name } } }", "zoho"),
        ({"FAKTUROID_SANDBOX_QUOTA": "2"}, "{ todos(first: 2) { nodes { name } } }", "fakturoid"),
    ],
)
async def test_a_sandbox_quota_set_by_its_variable_is_rate_limited(
    monkeypatch: pytest.MonkeyPatch, variables: dict[str, str], query: str, vendor: str
) -> None:
    async with gateway_with(monkeypatch, **variables) as gateway:
        for _ in range(2):
            assert "errors" not in await gateway.execute(query)
        limited = await gateway.execute(query)
    assert codes(limited) == ["RATE_LIMITED"]
    extensions = limited["errors"][0]["extensions"]
    assert extensions["vendor"] == vendor
    assert 0 < extensions["retryAfter"] <= 60


async def test_admin_changes_are_visible_in_the_next_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # By-id todo reads answered from recent list pages see a change up to
    # FAKTUROID_BY_ID_MAX_AGE late (tests/test_fakturoid_seen.py): off here.
    async with gateway_with(monkeypatch, FAKTUROID_BY_ID_MAX_AGE="0") as gateway:
        await _changes_are_visible_in_the_next_read(gateway)


async def _changes_are_visible_in_the_next_read(gateway: Gateway) -> None:
    zoho = gateway.sandbox_app("/zoho").state.store
    project = next(iter(zoho.projects.values()))
    zoho_task = next(iter(project.tasks.values()))
    fakturoid = gateway.sandbox_app("/fakturoid").state.store
    todo = next(t for t in fakturoid.todos.values() if t.completed_at is None)
    desk = gateway.sandbox_app("/readydesk").state.store
    invoice = next(i for i in desk.invoices if i.status == "PENDING")
    query = """query($task: ID!, $zoho: ID!, $todo: ID!, $invoice: ID!) {
      task(id: $task) { name complete }
      projectTask(id: $zoho) { name }
      todo(id: $todo) { completed }
      invoice(id: $invoice) { status }
    }"""
    ids = {
        "task": encode_id(INVOICED, "Task", 700),
        "zoho": encode_id(ZOHO, "ProjectTask", project.project_id, zoho_task.task_id),
        "todo": encode_id(FAKTUROID, "Todo", todo.id),
        "invoice": encode_id(READYDESK, "Invoice", invoice.invoice_id),
    }
    before = (await gateway.execute(query, ids))["data"]
    assert before["task"]["complete"] is False and before["todo"]["completed"] is False
    await admin(
        gateway,
        "/invoiced",
        {"type": "task", "id": 700, "set": {"name": "From the UI", "complete": True}},
    )
    await admin(
        gateway, "/zoho", {"type": "task", "id": zoho_task.task_id, "set": {"task_name": "Zoho UI"}}
    )
    await admin(gateway, "/fakturoid", {"type": "todo", "id": todo.id, "set": {"completed": True}})
    await admin(
        gateway,
        "/readydesk",
        {"type": "invoice", "id": invoice.invoice_id, "set": {"status": "PAID"}},
    )
    after = (await gateway.execute(query, ids))["data"]
    assert after == {
        "task": {"name": "From the UI", "complete": True},
        "projectTask": {"name": "Zoho UI"},
        "todo": {"completed": True},
        "invoice": {"status": "PAID"},
    }
    # Only the sandbox's own app serves it: the gateway has no such route.
    assert (
        await gateway.client.post("/zoho/_admin/changes", json={"random": 1})
    ).status_code == 404
