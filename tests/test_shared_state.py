"""Several gateways sharing one real Redis: client -> gateway -> adapter -> sandbox.

Two app instances, each with its own adapters, token caches and stores (as two
processes would have), reach the same sandboxes and the same redis-server.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from gateway.config import Settings
from gateway.core.ids import encode_id
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.vendors.zoho import ZOHO
from tests.conftest import FaultyTransport, Gateway, codes, gateway_settings
from tests.redis_server import RedisServer
from tests.test_idempotent_writes import (
    CREATE_PROJECT_TASK,
    CREATE_TASK,
    STOREFRONT,
    store,
    time_out_after_applying,
    total_calls,
)

BOTH_OAUTH_VENDORS = "{ projects(first: 2) { nodes { id } } todos(first: 2) { nodes { id } } }"
ZOHO_GRANT, FAKTUROID_GRANT = "/oauth/v2/token", "/oauth/token"
NEW_TASK = {"name": "Chase", "action": "PHONE", "dueDate": "2026-12-01T09:00:00Z"}


@asynccontextmanager
async def gateways(settings: Settings, count: int = 2) -> AsyncIterator[list[Gateway]]:
    """``count`` gateway apps with separate adapters, in front of one set of sandboxes."""
    sandbox = create_sandbox_app(settings.plugins)
    transport = FaultyTransport(httpx.ASGITransport(app=sandbox))
    vendors = [plugin.vendor for plugin in settings.plugins]
    apps = [
        create_app(settings, transports=dict.fromkeys(vendors, transport)) for _ in range(count)
    ]
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        for app in apps
    ]
    try:
        yield [Gateway(c, sandbox, transport, app) for c, app in zip(clients, apps, strict=True)]
    finally:
        for client, app in zip(clients, apps, strict=True):
            await client.aclose()
            await app.state.adapters.aclose()


def keyed(key: str) -> dict[str, object]:
    return {"input": {**NEW_TASK, "idempotencyKey": key}}


def count_calls(gateway: Gateway, path_end: str) -> list[str]:
    seen: list[str] = []

    def record(request: httpx.Request) -> None:
        if request.url.path.endswith(path_end):
            seen.append(request.method)

    gateway.inject(lambda request: record(request))
    return seen


async def test_two_gateways_sharing_redis_make_one_token_grant_per_vendor(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (first, second):
        zoho_grants = count_calls(first, ZOHO_GRANT)
        fakturoid_grants = count_calls(first, FAKTUROID_GRANT)
        # 50 concurrent requests, alternating between the two gateways.
        bodies = await asyncio.gather(
            *(gateway.execute(BOTH_OAUTH_VENDORS) for gateway in [first, second] * 25)
        )
    assert [codes(body) for body in bodies] == [[]] * 50
    assert all(body["data"]["projects"]["nodes"] for body in bodies)
    assert (len(zoho_grants), len(fakturoid_grants)) == (1, 1)


async def test_an_idempotent_create_is_replayed_by_the_other_gateway(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (first, second):
        tasks = store(first, "/invoiced").tasks
        before = len(tasks)
        keyed = {"input": {**NEW_TASK, "idempotencyKey": "across-0001"}}
        written = await first.execute(CREATE_TASK, keyed)
        replayed = await second.execute(CREATE_TASK, keyed, accounting=True)
        assert codes(written) == []
        assert replayed["data"] == written["data"]
        assert total_calls(replayed) == 0
        assert len(tasks) == before + 1

        refused = await second.execute(
            CREATE_TASK, {"input": {**NEW_TASK, "name": "Other", "idempotencyKey": "across-0001"}}
        )
        assert codes(refused) == ["BAD_USER_INPUT"]


async def test_a_create_in_doubt_on_one_gateway_is_completed_not_repeated_by_the_other(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    async with gateways(settings) as (first, second):
        project = store(first, "/zoho").projects[STOREFRONT]
        before = len(project.tasks)
        task = {"projectId": encode_id(ZOHO, "Project", STOREFRONT), "name": "Wireframes"}
        keyed = {"input": {**task, "idempotencyKey": "doubt-0001"}}
        time_out_after_applying(first, "POST", f"/projects/{STOREFRONT}/tasks")
        assert codes(await first.execute(CREATE_PROJECT_TASK, keyed)) == ["OUTCOME_UNKNOWN"]
        retried = await second.execute(CREATE_PROJECT_TASK, keyed)
    assert codes(retried) == []
    assert len(project.tasks) == before + 1
    assert retried["data"]["createProjectTask"]["projectTask"]["zohoId"] == max(project.tasks)


async def test_redis_going_away_degrades_to_per_process_state_with_one_warning(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    settings = gateway_settings(monkeypatch, GATEWAY_REDIS_URL=redis.url)
    caplog.set_level(logging.INFO, logger="gateway.storage")
    async with gateways(settings, count=1) as (gateway,):
        tasks = store(gateway, "/invoiced").tasks
        before = len(tasks)
        assert codes(await gateway.execute(CREATE_TASK, keyed("before-stop"))) == []
        redis.stop()

        loop = asyncio.get_running_loop()
        started = loop.time()
        # A token grant (none was needed before), writes and their replays, all without Redis.
        answers = [await gateway.execute(BOTH_OAUTH_VENDORS)]
        for key in ("after-stop-1", "after-stop-2"):
            answers.append(await gateway.execute(CREATE_TASK, keyed(key)))
            answers.append(await gateway.execute(CREATE_TASK, keyed(key), accounting=True))
        answers.append(await gateway.execute(BOTH_OAUTH_VENDORS))
        # A guard against hanging on the vanished server, not a speed figure.
        assert loop.time() - started < 10

    assert [codes(answer) for answer in answers] == [[]] * len(answers)
    assert answers[2]["data"] == answers[1]["data"] and total_calls(answers[2]) == 0
    assert len(tasks) == before + 3
    warnings = [
        r for r in caplog.records if r.name == "gateway.storage" and r.levelname == "WARNING"
    ]
    assert len(warnings) == 1
    assert "redis://" not in warnings[0].getMessage()


async def test_every_redis_client_waits_as_long_as_gateway_redis_timeout(
    monkeypatch: pytest.MonkeyPatch, redis: RedisServer
) -> None:
    """The shared store, the read cache's entries and the change relay each give Redis
    ``GATEWAY_REDIS_TIMEOUT`` seconds a command before going on without it."""
    settings = gateway_settings(
        monkeypatch, GATEWAY_REDIS_URL=redis.url, GATEWAY_REDIS_TIMEOUT="2.5"
    )
    async with gateways(settings, count=1) as (gateway,):
        adapters = gateway.app.state.adapters
        cache = adapters.read_cache
        relay = gateway.app.state.changes.relay.__self__
        clients = [adapters.store._client, cache.store._client, relay.channel._publisher]
        timeouts = {
            (
                pool.connection_kwargs["socket_timeout"],
                pool.connection_kwargs["socket_connect_timeout"],
            )
            for pool in (client.connection_pool for client in clients)
        }
    assert timeouts == {(2.5, 2.5)}
