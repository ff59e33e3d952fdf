"""Each sandbox's ``/_admin/changes``: edits made behind the gateway's back, as the vendor's
own UI would, logged with the sandbox clock's time."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.core.sandbox import Clock
from gateway.vendors.fakturoid import sandbox as fakturoid
from gateway.vendors.invoiced import sandbox as invoiced
from gateway.vendors.readydesk import sandbox as readydesk
from gateway.vendors.zoho import sandbox as zoho

ADMIN = "/_admin/changes"
CREATE_APPS = [zoho.create_app, invoiced.create_app, fakturoid.create_app, readydesk.create_app]


async def post(app: Starlette, body: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        return await client.post(ADMIN, json=body)


async def log(app: Starlette) -> list[dict[str, Any]]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        changes: list[dict[str, Any]] = (await client.get(ADMIN)).json()["changes"]
        return changes


async def test_zoho_task_renamed_and_logged_with_the_clock_time() -> None:
    clock = Clock()
    app = zoho.create_app(clock=clock)
    project = next(iter(app.state.store.projects.values()))
    task = next(iter(project.tasks.values()))
    change = {"type": "task", "id": task.task_id, "set": {"task_name": "Renamed in the UI"}}
    response = await post(app, change)
    assert response.status_code == 200
    assert task.task_name == "Renamed in the UI"
    assert project.modified == pytest.approx(clock.now(), abs=1)
    clock.advance(30)
    await post(app, {"type": "project", "id": project.project_id, "set": {"status": "inactive"}})
    assert project.status == "inactive"
    entries = await log(app)
    assert [e["seq"] for e in entries] == [1, 2]
    assert entries[0]["set"] == {"task_name": "Renamed in the UI"}
    assert entries[1]["at"] - entries[0]["at"] == pytest.approx(30, abs=1)


async def test_invoiced_task_completed_with_the_api_s_own_rules() -> None:
    app = invoiced.create_app()
    task = app.state.store.tasks[700]
    assert task["complete"] is False
    response = await post(app, {"type": "task", "id": 700, "set": {"complete": True}})
    assert response.status_code == 200
    assert task["complete"] is True and task["completed_date"] is not None
    refused = await post(app, {"type": "task", "id": 700, "set": {"action": "dance"}})
    assert refused.status_code == 400
    missing = await post(app, {"type": "task", "id": 1, "set": {"complete": True}})
    assert missing.status_code == 404


async def test_fakturoid_todo_ticked_off_and_readydesk_invoice_paid() -> None:
    app = fakturoid.create_app()
    todo = next(t for t in app.state.store.todos.values() if t.completed_at is None)
    await post(app, {"type": "todo", "id": todo.id, "set": {"completed": True}})
    assert todo.completed_at is not None
    desk = readydesk.create_app()
    invoice = next(i for i in desk.state.store.invoices if i.status == "PENDING")
    response = await post(
        desk, {"type": "invoice", "id": invoice.invoice_id, "set": {"status": "PAID"}}
    )
    assert response.status_code == 200
    assert invoice.status == "PAID"


@pytest.mark.parametrize("create_app", CREATE_APPS)
async def test_random_edits_apply_and_are_logged(create_app: Any) -> None:
    app = create_app()
    response = await post(app, {"random": 25})
    assert response.status_code == 200, response.text
    applied = response.json()["applied"]
    assert len(applied) == 25
    assert await log(app) == applied
    # The same seed gives the same edits, so benchmark runs can be compared.
    again = create_app()
    replayed = (await post(again, {"random": 25})).json()["applied"]
    assert [(e["type"], e["id"], e["set"]) for e in replayed] == [
        (e["type"], e["id"], e["set"]) for e in applied
    ]


@pytest.mark.parametrize("create_app", CREATE_APPS)
@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "nothing", "id": 1, "set": {"x": 1}}, 400),
        ({"random": 0}, 400),
        ([1, 2], 400),
        ({"type": "task", "id": "404", "set": {"task_name": "x"}}, None),
    ],
)
async def test_bad_changes_are_refused(create_app: Any, body: Any, status: int | None) -> None:
    app = create_app()
    response = await post(app, body)
    assert response.status_code in ((status,) if status else (400, 404))
    assert "error" in response.json()
    assert await log(app) == []
