"""A `workItems` walk whose pages land on two gateways: client -> gateway -> adapter -> sandbox.

The two apps have separate adapters (as two processes would). Sharing a real
Redis, each resumes in the vendor pages and sorted sets the other read, so the
walk reads every vendor page once; without it, each app reads again what the
other already read, and the cursor still resumes in the right place.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from gateway.core.work import WorkBatch, WorkQuery, WorkSort
from gateway.state.storage.codec import decode, encode
from gateway.state.storage.memory import MemoryStore
from gateway.state.storage.work_snapshots import KeptRead, SharedWorkSnapshots
from tests.conftest import Gateway, codes, gateway_settings
from tests.redis_server import RedisServer
from tests.test_shared_state import gateways
from tests.test_work_walk import (
    PAGE,
    PAGE_SIZE,
    PAGES,
    Reads,
    add_invoiced_tasks,
    calls_by_vendor,
    reference_key,
)

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

SORTS = [{"field": "DUE_AT"}, {"field": "CREATED_AT", "descending": True}, {"field": "TITLE"}]
TOGGLE_TODO = "mutation($id: ID!) { toggleTodoCompletion(id: $id) { todo { completed } } }"


async def alternating_walk(
    pair: list[Gateway], sort: dict[str, Any]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every page of the list, odd pages from the first gateway, even ones from the second."""
    nodes: list[dict[str, Any]] = []
    bodies: list[dict[str, Any]] = []
    after = None
    for number in range(PAGES):
        variables = {"first": PAGE_SIZE, "after": after, "sort": sort}
        body = await pair[number % 2].execute(PAGE, variables, accounting=True)
        assert codes(body) == [], body
        bodies.append(body)
        connection = body["data"]["workItems"]
        nodes += connection["nodes"]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            break
    return nodes, bodies


async def walk_across(
    monkeypatch: pytest.MonkeyPatch, sort: dict[str, Any], **env: str
) -> tuple[list[dict[str, Any]], Reads, Counter[str]]:
    settings = gateway_settings(monkeypatch, **env)
    async with gateways(settings) as pair:
        add_invoiced_tasks(pair[0])  # one set of sandboxes behind both gateways
        reads = Reads()
        pair[0].inject(reads)  # one transport too: this sees both gateways' calls
        nodes, bodies = await alternating_walk(pair, sort)
    assert len(bodies) == PAGES
    assert not bodies[-1]["data"]["workItems"]["pageInfo"]["hasNextPage"]
    ids = [node["id"] for node in nodes]
    assert len(ids) == len(set(ids)) == 300
    assert nodes == sorted(nodes, key=lambda node: reference_key(sort, node))
    # The accounting extension agrees with what reached the sandboxes.
    assert calls_by_vendor(bodies) == reads.per_vendor()
    return nodes, reads, calls_by_vendor(bodies)


@pytest.mark.parametrize("sort", SORTS, ids=lambda sort: "-".join(map(str, sort.values())))
async def test_a_walk_alternating_gateways_that_share_redis_reads_every_page_once(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer, sort: dict[str, Any]
) -> None:
    shared_nodes, shared, shared_calls = await walk_across(
        monkeypatch, sort, GATEWAY_REDIS_URL=redis.url
    )
    alone_nodes, alone, alone_calls = await walk_across(monkeypatch, sort)

    assert [url for url, count in Counter(shared.urls).items() if count > 1] == []
    # 176 tasks at 100 a page, 100 todos at 40 a page; Zoho's set read once.
    assert (shared_calls["invoiced"], shared_calls["fakturoid"]) == (2, 3)
    # Each gateway on its own reads again what the other already read, same items.
    assert alone_nodes == shared_nodes
    assert [url for url, count in Counter(alone.urls).items() if count > 1] != []
    assert sum(alone_calls.values()) > sum(shared_calls.values())


async def test_a_write_through_one_gateway_clears_what_the_other_kept(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    sort = {"field": "CREATED_AT", "descending": True}
    async with gateways(settings) as (first, second):
        reads = Reads()
        first.inject(reads)
        page = await first.execute(PAGE, {"first": 10, "sort": sort})
        todos = [n for n in page["data"]["workItems"]["nodes"] if n["vendor"] == "FAKTUROID"]
        assert todos, page
        assert codes(await first.execute(TOGGLE_TODO, {"id": todos[0]["id"]})) == []
        after = page["data"]["workItems"]["pageInfo"]["endCursor"]
        following = await second.execute(PAGE, {"first": 10, "after": after, "sort": sort})
    assert codes(following) == []
    seen = page["data"]["workItems"]["nodes"] + following["data"]["workItems"]["nodes"]
    assert len({n["id"] for n in seen}) == 20
    # The other gateway read Fakturoid's first page afresh, after the write.
    assert reads.per_vendor()["fakturoid"] == 2


async def test_kept_reads_round_trip_through_the_codec_with_their_vendor_models(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = gateway_settings(monkeypatch)
    async with gateways(settings, count=1) as (gateway,):
        adapters = gateway.app.state.adapters
        query = WorkQuery(sort=WorkSort.TITLE, completed=False, search="e")
        for vendor in adapters.work_vendors:
            batch = await adapters.work_source(vendor).work_batch(query, None)
            assert batch.records, vendor
            kept = KeptRead(query, WorkBatch(batch.records, batch.next_position, "1"), page=1)
            assert decode(encode(kept)) == kept


class KeyedStore(MemoryStore):
    """A memory store that remembers the keys written, to forge what Redis would hold."""

    def __init__(self) -> None:
        super().__init__()
        self.keys: list[str] = []

    async def set(self, key: str, value: bytes, *, ttl: float) -> None:
        self.keys.append(key)
        await super().set(key, value, ttl=ttl)


@pytest.mark.parametrize(
    "forged",
    [
        b'{"$t": "dataclass", "class": "subprocess:CompletedProcess", "fields": {}}',
        b'{"$t": "dataclass", "class": "gateway.core.work:WorkQuery", "fields": {"nope": 1}}',
        b"not json",
    ],
)
async def test_a_kept_read_that_is_not_the_gateways_own_is_a_miss(forged: bytes) -> None:
    store = KeyedStore()
    snapshots = SharedWorkSnapshots(store, "invoiced", "account")
    batch = await snapshots.put_page(WorkQuery(), 1, [], "2")
    token = str(batch.position).split(".", 1)[1]
    assert await snapshots.get_page(token, WorkQuery(), 1) == batch
    await store.set(store.keys[-1], forged, ttl=60)
    assert await snapshots.get_page(token, WorkQuery(), 1) is None
