"""The shared vendor read cache (GATEWAY_CACHE): client -> gateway -> adapter -> sandbox.

Reads are served from it without an upstream call, to every client; writes and change
events drop it, in this process and, through a real Redis that holds the entries, in
every other; GET queries carry Cache-Control, Age and an ETag, and a matching
If-None-Match gets a 304.
"""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis

from gateway.adapters import Adapters
from gateway.auth.api_keys import hash_key
from gateway.core.ids import encode_id
from gateway.state.changes import ChangeEvent
from gateway.state.storage.redis_store import KEY_PREFIX
from gateway.upstream.cache.items import item_of
from gateway.vendors.invoiced.vendor import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes, gateway_settings, running_gateway
from tests.redis_server import RedisServer
from tests.test_idempotent_writes import CREATE_TASK, total_calls
from tests.test_shared_state import NEW_TASK, gateways
from tests.test_zoho_webhooks import PROJECT, project_event, with_token

EVERY_VENDOR = """{ tasks(first: 3) { nodes { invoicedId name } }
  projects(first: 2) { nodes { zohoId } } todos(first: 2) { nodes { fakturoidId } }
  invoices(first: 2) { nodes { id } } }"""
TASK_NAMES = "{ tasks(first: 100) { nodes { name } } }"
# Apollo's CSRF rule: a GET operation must carry a header a browser cannot send unasked.
PREFLIGHT = {"Apollo-Require-Preflight": "true"}
# name -> (the key a client sends, its scopes)
KEYS = {
    "everything": ("tgw_everything_0001", "*:read,*:write"),
    "invoiced-reader": ("tgw_invoiced_reader_0001", "invoiced:read"),
}


def upstream_requests(gateway: Gateway) -> list[str]:
    seen: list[str] = []

    def record(request: httpx.Request) -> None:
        seen.append(f"{request.method} {request.url.path}")

    gateway.inject(record)
    return seen


def names(body: dict[str, Any]) -> list[str]:
    return [node["name"] for node in body["data"]["tasks"]["nodes"]]


@pytest.fixture
async def cached(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    async with running_gateway(gateway_settings(monkeypatch)) as running:
        yield running


async def test_a_cached_read_costs_no_upstream_call(cached: Gateway) -> None:
    first = await cached.execute(EVERY_VENDOR, accounting=True)
    second = await cached.execute(EVERY_VENDOR, accounting=True)
    assert codes(first) == codes(second) == []
    assert total_calls(first) >= 4
    assert total_calls(second) == 0
    assert second["data"] == first["data"]


async def test_the_cache_is_on_by_default_and_can_be_turned_off(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    await gateway.execute(TASK_NAMES)
    assert total_calls(await gateway.execute(TASK_NAMES, accounting=True)) == 0
    async with running_gateway(gateway_settings(monkeypatch, GATEWAY_CACHE="false")) as off:
        await off.execute(TASK_NAMES)
        assert total_calls(await off.execute(TASK_NAMES, accounting=True)) > 0


async def test_a_change_event_drops_the_vendors_cached_reads(cached: Gateway) -> None:
    await cached.execute(TASK_NAMES)
    event = ChangeEvent(INVOICED, "InvoicedTask", "id", "updated", datetime.now(UTC))
    await cached.app.state.changes.publish(event)
    cache = adapters_of(cached).read_cache
    assert cache is not None
    await asyncio.wait_for(cache.settled(), timeout=5)
    assert total_calls(await cached.execute(TASK_NAMES, accounting=True)) > 0


async def test_a_write_drops_the_vendors_cached_reads(cached: Gateway) -> None:
    before = await cached.execute(TASK_NAMES)
    written = await cached.execute(CREATE_TASK, {"input": NEW_TASK})
    assert codes(written) == []
    after = await cached.execute(TASK_NAMES, accounting=True)
    assert total_calls(after) > 0
    assert names(after) == [*names(before), NEW_TASK["name"]]


async def test_a_read_that_began_before_a_write_is_not_kept_after_it(cached: Gateway) -> None:
    inner = cached.transport.inner
    held, release = asyncio.Event(), asyncio.Event()

    class HeldFirstRead(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answer = await inner.handle_async_request(request)
            if request.method == "GET" and not held.is_set():
                # The vendor has answered; the answer reaches the gateway after the write.
                held.set()
                await release.wait()
            return answer

    cached.transport.inner = HeldFirstRead()
    reading = asyncio.ensure_future(cached.execute(TASK_NAMES))
    await asyncio.wait_for(held.wait(), timeout=5)
    assert codes(await cached.execute(CREATE_TASK, {"input": NEW_TASK})) == []
    release.set()
    before_the_write = await asyncio.wait_for(reading, timeout=5)
    assert NEW_TASK["name"] not in names(before_the_write)

    after = await cached.execute(TASK_NAMES, accounting=True)
    assert total_calls(after) > 0
    assert NEW_TASK["name"] in names(after)


@pytest.fixture
async def guarded(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    keys = ";".join(f"{name}:{hash_key(key)}:{scopes}" for name, (key, scopes) in KEYS.items())
    settings = gateway_settings(monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=keys)
    async with running_gateway(settings) as running:
        yield running


async def read_as(gateway: Gateway, client: str, query: str) -> dict[str, Any]:
    response = await gateway.client.post(
        "/graphql",
        json={"query": query},
        headers={"X-API-Key": KEYS[client][0], "X-Upstream-Accounting": "1"},
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_clients_with_different_keys_share_one_vendor_call(guarded: Gateway) -> None:
    first = await read_as(guarded, "everything", TASK_NAMES)
    assert total_calls(first) == 1
    # Another client with other scopes reads the same page: the vendor's answer is the
    # same for both (the gateway's own credentials), so it costs no second call.
    other = await read_as(guarded, "invoiced-reader", TASK_NAMES)
    assert total_calls(other) == 0
    assert other["data"] == first["data"]

    # Scopes are still checked before any read: Zoho's cached page is not served to a
    # client without zoho:read.
    assert total_calls(await read_as(guarded, "everything", EVERY_VENDOR)) > 0
    refused = await read_as(
        guarded, "invoiced-reader", "{ projects(first: 2) { nodes { zohoId } } }"
    )
    assert codes(refused) == ["FORBIDDEN"]
    assert refused["data"] == {"projects": None}


async def test_get_queries_carry_an_etag_and_revalidate_with_304(cached: Gateway) -> None:
    requests = upstream_requests(cached)
    params = {"query": TASK_NAMES}
    first = await cached.client.get("/graphql", params=params, headers=PREFLIGHT)
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, max-age=10"  # Invoiced's TTL
    assert "Authorization" in first.headers["vary"]
    etag = first.headers["etag"]
    calls_after_first = len(requests)
    assert calls_after_first > 0

    again = await cached.client.get(
        "/graphql", params=params, headers={**PREFLIGHT, "If-None-Match": etag}
    )
    assert again.status_code == 304
    assert again.content == b""
    assert again.headers["etag"] == etag
    assert len(requests) == calls_after_first  # the operation ran on cached reads

    # Once the data changes, the old validator no longer matches: the new answer comes.
    assert codes(await cached.execute(CREATE_TASK, {"input": NEW_TASK})) == []
    changed = await cached.client.get(
        "/graphql", params=params, headers={**PREFLIGHT, "If-None-Match": etag}
    )
    assert changed.status_code == 200
    assert changed.headers["etag"] != etag
    assert NEW_TASK["name"] in names(changed.json())


async def test_a_get_answer_with_errors_is_not_kept(cached: Gateway) -> None:
    cached.inject(lambda request: httpx.Response(503))
    failed = await cached.client.get("/graphql", params={"query": TASK_NAMES}, headers=PREFLIGHT)
    assert codes(failed.json()) == ["UPSTREAM_UNAVAILABLE"]
    assert failed.headers["cache-control"] == "no-store"
    assert "etag" not in failed.headers


def adapters_of(gateway: Gateway) -> Adapters:
    adapters: Adapters = gateway.app.state.adapters
    return adapters


async def test_a_write_on_one_gateway_drops_the_others_cache_through_redis(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (writer, reader):
        # Entries live in Redis: what one process read, the other answers from.
        first = await writer.execute(TASK_NAMES, accounting=True)
        assert total_calls(first) == 1
        before = await reader.execute(TASK_NAMES, accounting=True)
        assert total_calls(before) == 0
        assert before["data"] == first["data"]

        # A write in one bumps the vendor's generation in Redis: the other's next read
        # goes to the vendor, with nothing to wait for.
        assert codes(await writer.execute(CREATE_TASK, {"input": NEW_TASK})) == []
        after = await reader.execute(TASK_NAMES, accounting=True)
        assert total_calls(after) > 0
        assert names(after) == [*names(before), NEW_TASK["name"]]


async def test_redis_gone_reads_and_writes_still_answer_from_the_vendor(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings, count=1) as (gateway,):
        before = await gateway.execute(TASK_NAMES)
        assert total_calls(await gateway.execute(TASK_NAMES, accounting=True)) == 0
        redis.stop()
        for name in ("Chase", "Chase again"):
            written = await gateway.execute(CREATE_TASK, {"input": {**NEW_TASK, "name": name}})
            assert codes(written) == []
        after = await gateway.execute(TASK_NAMES, accounting=True)
        again = await gateway.execute(TASK_NAMES, accounting=True)
    assert codes(after) == codes(again) == []
    assert total_calls(after) > 0
    assert names(after) == names(again) == [*names(before), "Chase", "Chase again"]
    warnings = [r for r in caplog.records if r.name == "gateway.cache" and r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert redis.url not in warnings[0].getMessage()


@pytest.mark.parametrize("collapse", ["true", "false"])
async def test_a_compressed_answer_reads_again_from_the_cache(
    monkeypatch: pytest.MonkeyPatch, collapse: str
) -> None:
    # A vendor that gzips its answers: the kept copy holds the decoded body, so it
    # must not still say `Content-Encoding: gzip` (it would be decoded twice), whether
    # or not the answer passed through a collapsed read first.
    settings = gateway_settings(monkeypatch, GATEWAY_COLLAPSE_READS=collapse)
    async with running_gateway(settings) as cached:
        await _compressed_reads(cached)


async def _compressed_reads(cached: Gateway) -> None:
    inner = cached.transport.inner

    async def gzipped(request: httpx.Request) -> httpx.Response:
        answer = await inner.handle_async_request(request)
        body = await answer.aread()
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
        return httpx.Response(
            answer.status_code,
            headers=[*headers, ("content-encoding", "gzip")],
            content=gzip.compress(body),
        )

    cached.transport.inner = httpx.MockTransport(gzipped)
    first = await cached.execute(TASK_NAMES, accounting=True)
    second = await cached.execute(TASK_NAMES, accounting=True)
    assert codes(first) == codes(second) == []
    assert total_calls(second) == 0
    assert second["data"] == first["data"]


async def test_a_change_reported_to_two_gateways_sharing_redis_is_applied_once(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    """However many processes and sources report one change (here each gateway, as a
    webhook to one and the poller of the other would), the shared entries are
    invalidated once: one generation bump in Redis."""
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    client = Redis.from_url(redis.url)
    generation = f"{KEY_PREFIX}cache:{INVOICED.value}:generation"
    async with gateways(settings) as pair:
        await pair[0].execute(TASK_NAMES)
        before = int(await client.get(generation) or 0)
        event = ChangeEvent(INVOICED, "InvoicedTask", "id", "updated", datetime.now(UTC))
        for gateway in pair:
            await gateway.app.state.changes.publish(event)
            cache = adapters_of(gateway).read_cache
            assert cache is not None
            await asyncio.wait_for(cache.settled(), timeout=5)
        assert int(await client.get(generation) or 0) == before + 1
    await client.aclose()


async def test_a_webhook_naming_a_projects_tasks_moves_the_vendors_generation_once(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    """Zoho's project webhook names every task of the project: one change, applied as one
    (the vendor's reads superseded once, each named item's own reads too), so readers
    between the events do not fetch lists that the next event supersedes."""
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    client = Redis.from_url(redis.url)
    prefix = f"{KEY_PREFIX}cache:{ZOHO.value}"
    tasks = ["903000000072385", "903000000072386", "903000000072387"]
    body = project_event(tasks=[{"task_id": task, "task_name": "Task"} for task in tasks])
    named = [encode_id(ZOHO, "Project", PROJECT)]
    named += [encode_id(ZOHO, "ProjectTask", PROJECT, task) for task in tasks]
    async with gateways(settings) as (receiver, _):
        before = int(await client.get(f"{prefix}:generation") or 0)
        answer = await receiver.client.post("/webhooks/zoho", content=body, headers=with_token())
        assert answer.status_code == 204
        cache = adapters_of(receiver).read_cache
        assert cache is not None
        await asyncio.wait_for(cache.settled(), timeout=5)
        assert int(await client.get(f"{prefix}:generation") or 0) == before + 1
        moved = [await client.get(f"{prefix}:item:{item_of(each)}") for each in named]
    assert moved == [b"1"] * 4
    await client.aclose()


async def test_a_change_of_one_item_in_one_gateway_leaves_the_others_item_reads_in_redis(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    by_id = "query($id: ID!) { task(id: $id) { name } }"
    async with gateways(settings) as (reader, other):
        listed = await reader.execute("{ tasks(first: 2) { nodes { id } } }")
        a, b = [node["id"] for node in listed["data"]["tasks"]["nodes"]]
        for task in (a, b):
            await reader.execute(by_id, {"id": task})
        change = ChangeEvent(INVOICED, "Task", a, "updated", datetime.now(UTC))
        await other.app.state.changes.publish(change)
        cache = adapters_of(other).read_cache
        assert cache is not None
        await asyncio.wait_for(cache.settled(), timeout=5)
        calls = [
            total_calls(await reader.execute(by_id, {"id": task}, accounting=True))
            for task in (a, b)
        ]
    assert calls == [1, 0]
