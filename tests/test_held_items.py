"""Items a list answer shows answer their by-id reads: client -> gateway -> adapter ->
sandbox, with the read cache's clock injected.

A by-id read of an item a kept list showed costs no vendor call and answers what the
vendor's own by-id read answers, as old as the list; a change of the item supersedes it
and a change of another item does not; a list read that began before a change holds
nothing; with Redis, one process's list serves another's by-id reads.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from gateway.core.ids import decode_id, encode_id
from gateway.state.changes import ChangeEvent
from gateway.upstream.cache.entries import Entry
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes, gateway_settings
from tests.harness import gateway_with
from tests.redis_server import RedisServer
from tests.test_freshness import FRESH, REVALIDATE, Clock, freshness, read_cache_of
from tests.test_idempotent_writes import total_calls
from tests.test_shared_state import gateways
from tests.test_zoho_webhooks import PROJECT

TASK_FIELDS = """id title completed dueAt completedAt url invoicedId name action customerId
  userId dueDate complete completedDate completedByUserId createdAt updatedAt"""
TASK_IDS = "{ tasks(first: 3) { nodes { id } } }"
TASK_BY_ID = f"query($id: ID!) {{ task(id: $id) {{ {TASK_FIELDS} }} }}"
PROJECT_TASK_FIELDS = """id title zohoId zohoProjectId projectName name description
  customerId customerName currencyId rate budgetHours"""
PROJECT_TASK_IDS = "{ projects(first: 1) { nodes { tasks(first: 3) { nodes { id } } } } }"
PROJECT_TASK_BY_ID = f"query($id: ID!) {{ projectTask(id: $id) {{ {PROJECT_TASK_FIELDS} }} }}"
NO_CACHE = {"Cache-Control": "no-cache"}


@pytest.fixture
async def cached(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    """A gateway with its read cache on (the default)."""
    async with gateway_with(monkeypatch) as gateway:
        yield gateway


@pytest.fixture
def clock(cached: Gateway) -> Clock:
    """The read cache's clock, moved on by hand."""
    clock = Clock()
    read_cache_of(cached).clock = clock
    return clock


async def task_ids(gateway: Gateway) -> list[str]:
    body = await gateway.execute(TASK_IDS)
    return [node["id"] for node in body["data"]["tasks"]["nodes"]]


async def by_id(
    gateway: Gateway, task: str, *, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    return await gateway.execute(TASK_BY_ID, {"id": task}, accounting=True, headers=headers)


async def test_a_task_a_list_showed_is_read_by_id_without_a_call(
    cached: Gateway, clock: Clock
) -> None:
    tasks = await task_ids(cached)
    clock.now += 4
    for task in tasks:
        held = await by_id(cached, task)
        assert total_calls(held) == 0
        # As old as the list it came from.
        assert freshness(held) == {"INVOICED": {"age": 4, "stale": False}}
        # What the vendor's own by-id read answers, field for field.
        fresh = await by_id(cached, task, headers=NO_CACHE)
        assert total_calls(fresh) == 1
        assert codes(held) == codes(fresh) == []
        assert held["data"] == fresh["data"]


async def test_a_project_task_a_list_showed_is_read_by_id_without_a_call(
    cached: Gateway,
) -> None:
    listed = await cached.execute(PROJECT_TASK_IDS)
    project = listed["data"]["projects"]["nodes"][0]
    tasks = [node["id"] for node in project["tasks"]["nodes"]]
    assert tasks
    for task in tasks:
        held = await cached.execute(PROJECT_TASK_BY_ID, {"id": task}, accounting=True)
        assert total_calls(held) == 0
        fresh = await cached.execute(
            PROJECT_TASK_BY_ID, {"id": task}, accounting=True, headers=NO_CACHE
        )
        assert total_calls(fresh) >= 1
        assert codes(held) == codes(fresh) == []
        assert held["data"] == fresh["data"]


def project_tasks(gateway: Gateway, count: int = 3) -> list[str]:
    """Global ids of the first tasks of Zoho's first project, from the sandbox's own data
    (no read through the gateway, so nothing is kept yet)."""
    tasks = gateway.sandbox_app("/zoho").state.store.projects[PROJECT].tasks
    return [encode_id(ZOHO, "ProjectTask", PROJECT, task) for task in list(tasks)[:count]]


async def zoho_reads(
    gateway: Gateway, tasks: list[str], answers: list[dict[str, Any]] | None = None
) -> list[list[str]]:
    """Each task read by id in turn (its answer added to ``answers``): the Zoho API paths
    each read called, its token's grant aside."""
    calls = []
    for task in tasks:
        sent = gateway.record("/zoho/invoice")
        answer = await gateway.execute(PROJECT_TASK_BY_ID, {"id": task})
        assert codes(answer) == []
        if answers is not None:
            answers.append(answer)
        calls.append([request.url.path.split("/v3/", 1)[1] for request in sent])
    return calls


async def test_a_projects_tasks_read_by_id_cost_one_call_for_the_project(cached: Gateway) -> None:
    tasks = project_tasks(cached)
    held: list[dict[str, Any]] = []
    # The first read reads the project's task list in place of the task; it answers the rest.
    project_list = f"projects/{PROJECT}/tasks"
    assert await zoho_reads(cached, tasks, held) == [[project_list], [], []]
    for task, answer in zip(tasks, held, strict=True):
        sent = cached.record("/zoho/invoice")
        fresh = await cached.execute(PROJECT_TASK_BY_ID, {"id": task}, headers=NO_CACHE)
        # A client that wants it fresh gets the task's own read.
        task_path = f"{project_list}/{decode_id(task).key.rsplit('/', 1)[-1]}"
        assert [request.url.path.split("/v3/", 1)[1] for request in sent] == [task_path]
        assert codes(answer) == codes(fresh) == []
        assert answer["data"] == fresh["data"]


async def test_a_project_change_naming_every_task_costs_one_call_to_read_them_again(
    cached: Gateway,
) -> None:
    """Zoho's project webhook names the project and each of its tasks: their next reads
    cost one call, the project's list, not one per task."""
    tasks = project_tasks(cached)
    assert await zoho_reads(cached, tasks) == [[f"projects/{PROJECT}/tasks"], [], []]
    now = datetime.now(UTC)
    named = [encode_id(ZOHO, "Project", PROJECT), *tasks]
    events = [ChangeEvent(ZOHO, decode_id(each).type_name, each, "updated", now) for each in named]
    await cached.app.state.changes.publish_all(events)
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    again = [
        await cached.execute(PROJECT_TASK_BY_ID, {"id": task}, accounting=True) for task in tasks
    ]
    assert [total_calls(each) for each in again] == [1, 0, 0]


async def test_a_change_of_one_task_supersedes_its_held_read_not_the_others(
    cached: Gateway,
) -> None:
    a, b, _ = await task_ids(cached)
    await cached.app.state.changes.publish(
        ChangeEvent(INVOICED, "Task", a, "updated", datetime.now(UTC))
    )
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    assert [total_calls(await by_id(cached, task)) for task in (a, b)] == [1, 0]


def hold_first_list_read(gateway: Gateway) -> tuple[asyncio.Event, asyncio.Event]:
    """The first task list the vendor answers reaches ``gateway`` only once ``release``
    (the second event) is set; ``listed`` (the first) is set when the vendor answered."""
    inner = gateway.transport.inner
    listed, release = asyncio.Event(), asyncio.Event()

    class HeldListRead(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answer = await inner.handle_async_request(request)
            if request.url.path.endswith("/tasks") and not listed.is_set():
                listed.set()
                await release.wait()
            return answer

    gateway.transport.inner = HeldListRead()
    return listed, release


async def test_a_list_read_that_began_before_a_change_holds_nothing(cached: Gateway) -> None:
    listed, release = hold_first_list_read(cached)
    reading = asyncio.ensure_future(task_ids(cached))
    await asyncio.wait_for(listed.wait(), timeout=5)
    # A change of some other task: the list's answer may predate it, so none is kept.
    other = "other-task"
    await cached.app.state.changes.publish(
        ChangeEvent(INVOICED, "Task", other, "updated", datetime.now(UTC))
    )
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    release.set()
    a, b, _ = await asyncio.wait_for(reading, timeout=5)
    assert [total_calls(await by_id(cached, task)) for task in (a, b)] == [1, 1]


async def test_a_held_task_past_fresh_waits_for_the_lists_refresh_then_refreshes_itself(
    cached: Gateway, clock: Clock
) -> None:
    (task, *_) = await task_ids(cached)
    by_id_calls = cached.record(f"/invoiced/tasks/{task_number(task)}")

    # Past fresh, in the first half of stale-while-revalidate: answered stale, and left
    # to the list's own refresh (which its readers start), so no by-id call.
    clock.now += FRESH + REVALIDATE / 4
    early = await by_id(cached, task)
    assert total_calls(early) == 0
    assert freshness(early)["INVOICED"]["stale"] is True
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    assert by_id_calls == []

    # Past half of it, nobody having read the list: the by-id read refreshes it.
    clock.now += REVALIDATE / 2
    late = await by_id(cached, task)
    assert total_calls(late) == 0
    await asyncio.wait_for(read_cache_of(cached).settled(), timeout=5)
    assert len(by_id_calls) == 1


def task_number(global_id: str) -> str:
    return decode_id(global_id).key


def test_an_entry_kept_before_held_entries_existed_decodes_as_read_by_id() -> None:
    kept = Entry(200, (("content-type", "application/json"),), b"{}", 5.0, "3")
    old_form = kept.encode().replace(b',"3",false]', b',"3"]', 1)
    assert old_form != kept.encode()
    assert Entry.decode(old_form) == kept
    held = Entry(200, (), b"[]", 5.0, "3", held=True)
    assert Entry.decode(held.encode()) == held


async def test_one_gateways_list_answers_anothers_by_id_reads_through_redis(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (lister, reader):
        tasks = await task_ids(lister)
        calls = [total_calls(await by_id(reader, task)) for task in tasks]
        assert calls == [0, 0, 0]
        # A change of the first, applied in the lister: the reader reads it again.
        await lister.app.state.changes.publish(
            ChangeEvent(INVOICED, "Task", tasks[0], "updated", datetime.now(UTC))
        )
        await asyncio.wait_for(read_cache_of(lister).settled(), timeout=5)
        calls = [total_calls(await by_id(reader, task)) for task in tasks]
    assert calls == [1, 0, 0]


async def test_a_list_read_before_another_gateways_change_holds_nothing_in_redis(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (lister, changer):
        listed, release = hold_first_list_read(lister)
        reading = asyncio.ensure_future(task_ids(lister))
        await asyncio.wait_for(listed.wait(), timeout=5)
        await changer.app.state.changes.publish(
            ChangeEvent(INVOICED, "Task", "other-task", "updated", datetime.now(UTC))
        )
        await asyncio.wait_for(read_cache_of(changer).settled(), timeout=5)
        release.set()
        a, b, _ = await asyncio.wait_for(reading, timeout=5)
        calls = [total_calls(await by_id(lister, task)) for task in (a, b)]
    assert calls == [1, 1]
