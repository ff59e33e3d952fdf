"""The change pollers, round by round: the gateway's adapters over fresh sandboxes, each
poller driven by hand (``Poller.step``), so the pauses it asks for are read, not slept.
A change made on a sandbox's ``/_admin/changes`` (or by another integration calling the
vendor with the same credentials) comes out as a change event on the app's bus; the
first round publishes nothing; deletions are reported as each vendor's read allows;
the calls a poller makes keep within its share of the vendor's quota."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from gateway.core.ids import decode_id, encode_id
from gateway.core.types import Vendor
from gateway.state.changes import ChangeBus, ChangeEvent
from gateway.state.polling import Poller
from gateway.vendors import fakturoid, invoiced, readydesk, zoho
from tests.conftest import Gateway
from tests.harness import gateway_with
from tests.test_sandbox_changes import admin

POLLING = {"GATEWAY_POLL": "true"}


def poller_of(gateway: Gateway, vendor: Vendor) -> Poller:
    [poller] = [p for p in gateway.app.state.pollers.pollers if p.vendor == vendor]
    return poller


@asynccontextmanager
async def events(gateway: Gateway) -> AsyncIterator[asyncio.Queue[ChangeEvent]]:
    bus: ChangeBus = gateway.app.state.changes
    async with bus.subscribe("test") as queue:
        yield queue


def drained(queue: asyncio.Queue[ChangeEvent]) -> list[tuple[str, str, str]]:
    found = []
    while not queue.empty():
        event = queue.get_nowait()
        found.append((event.type_name, event.id, event.kind))
    return found


def later(gateway: Gateway, prefix: str) -> None:
    """The sandbox's clock a few seconds on: vendors stamp changes in whole seconds."""
    gateway.sandbox_app(prefix).state.clock.advance(5)


def _invoiced_change(gateway: Gateway) -> tuple[dict[str, Any], str]:
    task = next(iter(gateway.sandbox_app("/invoiced").state.store.tasks.values()))
    gid = encode_id(invoiced.INVOICED, "Task", task["id"])
    return {"type": "task", "id": task["id"], "set": {"name": "Renamed in Invoiced"}}, gid


def _zoho_change(gateway: Gateway) -> tuple[dict[str, Any], str]:
    project = next(iter(gateway.sandbox_app("/zoho").state.store.projects.values()))
    task = next(iter(project.tasks.values()))
    gid = encode_id(zoho.ZOHO, "ProjectTask", project.project_id, task.task_id)
    return {"type": "task", "id": task.task_id, "set": {"task_name": "Renamed in Zoho"}}, gid


def _fakturoid_change(gateway: Gateway) -> tuple[dict[str, Any], str]:
    todos = gateway.sandbox_app("/fakturoid").state.store.todos.values()
    todo = next(t for t in todos if t.completed_at is None)
    gid = encode_id(fakturoid.FAKTUROID, "Todo", todo.id)
    return {"type": "todo", "id": todo.id, "set": {"completed": True}}, gid


def _readydesk_change(gateway: Gateway) -> tuple[dict[str, Any], str]:
    invoices = gateway.sandbox_app("/readydesk").state.store.invoices
    invoice = next(i for i in invoices if i.status == "PENDING")
    gid = encode_id(readydesk.READYDESK, "Invoice", invoice.invoice_id)
    return {"type": "invoice", "id": invoice.invoice_id, "set": {"status": "PAID"}}, gid


CHANGES = {
    "/invoiced": (invoiced.INVOICED, _invoiced_change),
    "/zoho": (zoho.ZOHO, _zoho_change),
    "/fakturoid": (fakturoid.FAKTUROID, _fakturoid_change),
    "/readydesk": (readydesk.READYDESK, _readydesk_change),
}


@pytest.mark.parametrize("prefix", list(CHANGES))
async def test_an_admin_change_is_published_after_a_baseline_that_publishes_nothing(
    monkeypatch: pytest.MonkeyPatch, prefix: str
) -> None:
    vendor, make_change = CHANGES[prefix]
    async with gateway_with(monkeypatch, **POLLING) as gateway, events(gateway) as queue:
        poller = poller_of(gateway, vendor)
        await poller.step()
        assert drained(queue) == []
        await poller.step()
        assert drained(queue) == []  # nothing changed
        change, gid = make_change(gateway)
        later(gateway, prefix)
        await admin(gateway, prefix, change)
        await poller.step()
        published = drained(queue)
    assert (gid, "updated") in [(event_id, kind) for _, event_id, kind in published]


async def test_invoiced_reports_a_task_added_as_created_and_one_deleted_as_deleted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, **POLLING) as gateway, events(gateway) as queue:
        poller = poller_of(gateway, invoiced.INVOICED)
        await poller.step()
        later(gateway, "/invoiced")
        fields = {"name": "Call back", "action": "phone", "due_date": 1_900_000_000}
        await admin(gateway, "/invoiced", {"type": "task", "set": fields})
        await poller.step()
        [(_, added, kind)] = drained(queue)
        assert kind == "created"
        # Another integration with the same key deletes it: no gateway mutation.
        adapter = gateway.app.state.adapters.of(invoiced.PLUGIN)
        await adapter.delete_task(int(decode_id(added).key))
        await poller.step()
        assert drained(queue) == [("Task", added, "deleted")]


async def test_zoho_reports_a_task_deleted_by_another_integration(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, **POLLING) as gateway, events(gateway) as queue:
        poller = poller_of(gateway, zoho.ZOHO)
        await poller.step()
        change, gid = _zoho_change(gateway)
        later(gateway, "/zoho")
        await admin(gateway, "/zoho", change)
        await poller.step()
        drained(queue)  # the first change of a project: its tasks are read from now on
        later(gateway, "/zoho")
        project_id, task_id = decode_id(gid).parts(2)
        await gateway.app.state.adapters.of(zoho.PLUGIN).delete_task(project_id, task_id)
        await poller.step()
        published = drained(queue)
    project = encode_id(zoho.ZOHO, "Project", project_id)
    assert sorted(published) == [("Project", project, "updated"), ("ProjectTask", gid, "deleted")]


async def test_fakturoid_and_readydesk_sweeps_report_deletions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, **POLLING) as gateway, events(gateway) as queue:
        todos = gateway.sandbox_app("/fakturoid").state.store.todos
        invoices = gateway.sandbox_app("/readydesk").state.store.invoices
        for vendor in (fakturoid.FAKTUROID, readydesk.READYDESK):
            await poller_of(gateway, vendor).step()
        # Deleted in the vendors' own apps (their APIs delete neither).
        todo_id = next(iter(todos))
        del todos[todo_id]
        invoice = invoices.pop(0)
        for vendor in (fakturoid.FAKTUROID, readydesk.READYDESK):
            await poller_of(gateway, vendor).step()
        published = sorted(drained(queue))
    assert published == [
        ("Invoice", encode_id(readydesk.READYDESK, "Invoice", invoice.invoice_id), "deleted"),
        ("Todo", encode_id(fakturoid.FAKTUROID, "Todo", todo_id), "deleted"),
    ]


def api_calls(requests: list[httpx.Request]) -> int:
    return sum("oauth" not in request.url.path for request in requests)


@pytest.mark.parametrize(
    ("prefix", "variables", "quotas"),
    [
        # Zoho: 1,000 a day binds (a tenth is one call every 864 s), not 100 a minute.
        ("/zoho", {}, [(100, 60.0), (1000, 86_400.0)]),
        # Fakturoid: 400 a minute; a short interval, so the quota share is what paces.
        ("/fakturoid", {"FAKTUROID_POLL_INTERVAL": "0.1"}, [(400, 60.0)]),
    ],
)
async def test_a_poller_spends_at_most_its_share_of_the_vendors_quota(
    monkeypatch: pytest.MonkeyPatch,
    prefix: str,
    variables: dict[str, str],
    quotas: list[tuple[int, float]],
) -> None:
    vendor, make_change = CHANGES[prefix]
    async with gateway_with(monkeypatch, **POLLING, **variables) as gateway:
        calls = gateway.record(prefix)
        poller = poller_of(gateway, vendor)
        pauses = []
        for round_ in range(6):
            if round_ % 2:
                change, _ = make_change(gateway)
                later(gateway, prefix)
                await admin(gateway, prefix, change)
            before = api_calls(calls)
            pauses.append(await poller.step())
            made = api_calls(calls) - before
            # Each round's calls are paid for by the pause after it.
            for limit, period in quotas:
                assert made <= 0.10 * limit * pauses[-1] / period
    assert api_calls(calls) >= 6
    for limit, period in quotas:
        assert api_calls(calls) <= 0.10 * limit * sum(pauses) / period


async def test_a_failing_vendor_is_polled_less_and_less_often_then_at_the_interval(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, READYDESK_POLL_INTERVAL="2", **POLLING) as gateway:
        poller = poller_of(gateway, readydesk.READYDESK)

        def down(request: httpx.Request) -> httpx.Response | None:
            return httpx.Response(503) if failing else None

        failing = True
        gateway.inject(down)
        pauses = [await poller.step() for _ in range(4)]
        failing = False
        pauses.append(await poller.step())
    assert pauses == [2.0, 4.0, 8.0, 16.0, 2.0]


async def test_the_poller_reads_the_vendor_not_the_read_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        gateway_with(monkeypatch, GATEWAY_CACHE="true", **POLLING) as gateway,
        events(gateway) as queue,
    ):
        poller = poller_of(gateway, invoiced.INVOICED)
        await poller.step()
        change, gid = _invoiced_change(gateway)
        later(gateway, "/invoiced")
        await admin(gateway, "/invoiced", change)
        await poller.step()
        assert drained(queue) == [("Task", gid, "updated")]
