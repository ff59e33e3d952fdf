"""Concurrent identical vendor reads share one call (GATEWAY_COLLAPSE_READS):
many clients -> gateway over HTTP -> adapter -> sandbox.

A gate between the gateway and the sandbox holds every vendor call until each
client's read has either reached the vendor or joined a call in flight, so the
reads overlap for sure rather than by the scheduler's luck.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import PLUGINS
from gateway.vendors.invoiced import PLUGIN as INVOICED
from tests.conftest import Gateway, codes
from tests.harness import gateway_with
from tests.test_idempotent_writes import CREATE_TASK

FIRST_PAGE = "{ tasks(first: 5) { nodes { invoicedId name } } }"
SECOND_PAGE = "{ tasks(first: 2) { nodes { invoicedId name } } }"
CLIENTS = 20


class Gate(httpx.AsyncBaseTransport):
    """Holds every call to the sandbox until opened; then passes it on, or answers
    503 while ``failing`` (a vendor fault)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.held: list[httpx.Request] = []
        self.opened = asyncio.Event()
        self.failing = False

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.held.append(request)
        await self.opened.wait()
        if self.failing:
            return httpx.Response(503, json={"error": "unavailable"})
        return await self.inner.handle_async_request(request)


@pytest.fixture
def gate() -> Gate:
    return Gate(httpx.ASGITransport(app=create_sandbox_app(PLUGINS)))


@pytest.fixture
async def gateway(monkeypatch: pytest.MonkeyPatch, gate: Gate) -> AsyncIterator[Gateway]:
    async with gateway_with(monkeypatch, gate) as running:
        yield running


def joined(gateway: Gateway) -> int:
    """Reads that joined a call in flight (none with collapsing off)."""
    collapse = getattr(gateway.app.state.adapters.of(INVOICED).upstream, "collapse", None)
    return int(collapse.flights.joined) if collapse is not None else 0


async def until(gate: Gate, ready: Callable[[], bool]) -> None:
    """Returns once ``ready`` (the gate opened and a failure raised if it never is)."""
    for _ in range(100_000):
        if ready():
            return
        await asyncio.sleep(0)
    gate.opened.set()
    raise AssertionError(f"the calls never all arrived: {len(gate.held)} held")


async def opened_when(gate: Gate, ready: Callable[[], bool]) -> None:
    """Opens the gate once ``ready``: every client's call is held or waiting on one."""
    await until(gate, ready)
    gate.opened.set()


async def together(
    gateway: Gateway, gate: Gate, queries: list[str], variables: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """Every query in ``queries`` as its own client's request, all at once."""
    answers = asyncio.gather(
        *(gateway.execute(query, variables, accounting=True) for query in queries)
    )
    await opened_when(gate, lambda: len(gate.held) + joined(gateway) == len(queries))
    return list(await answers)


def calls_of(answer: dict[str, Any]) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = answer["extensions"]["upstreamCalls"]["calls"]
    return calls


async def test_identical_reads_share_one_call(gateway: Gateway, gate: Gate) -> None:
    sent = gateway.record("/invoiced")
    answers = await together(gateway, gate, [FIRST_PAGE] * CLIENTS)
    assert len(sent) == 1
    assert all(codes(answer) == [] for answer in answers)
    assert len(answers[0]["data"]["tasks"]["nodes"]) == 5
    assert all(answer["data"] == answers[0]["data"] for answer in answers)
    # Each operation still shows its read; only one of them reached the vendor.
    accounts = [answer["extensions"]["upstreamCalls"] for answer in answers]
    assert sorted(account["total"] for account in accounts) == [0] * (CLIENTS - 1) + [1]
    assert sum(account["collapsed"] for account in accounts) == CLIENTS - 1
    assert all(len(account["calls"]) == 1 for account in accounts)
    assert all(account["calls"][0]["status"] == 200 for account in accounts)


async def test_different_pages_each_get_their_own(gateway: Gateway, gate: Gate) -> None:
    sent = gateway.record("/invoiced")
    queries = [FIRST_PAGE, SECOND_PAGE] * (CLIENTS // 2)
    answers = await together(gateway, gate, queries)
    assert len(sent) == 2
    first, second = answers[0]["data"], answers[1]["data"]
    assert len(first["tasks"]["nodes"]) == 5
    assert second["tasks"]["nodes"] == first["tasks"]["nodes"][:2]
    for query, answer in zip(queries, answers, strict=True):
        assert answer["data"] == (first if query == FIRST_PAGE else second)


async def test_a_failed_shared_call_fails_every_waiter_once(gateway: Gateway, gate: Gate) -> None:
    sent = gateway.record("/invoiced")
    gate.failing = True
    answers = await together(gateway, gate, [FIRST_PAGE] * CLIENTS)
    assert len(sent) == 1
    assert all(codes(answer) == ["UPSTREAM_UNAVAILABLE"] for answer in answers)
    assert all(calls_of(answer)[0]["status"] == 503 for answer in answers)

    # The failure is not kept: the next read calls the vendor again.
    gate.failing = False
    again = await gateway.execute(FIRST_PAGE, accounting=True)
    assert codes(again) == []
    assert len(sent) == 2
    assert again["extensions"]["upstreamCalls"]["total"] == 1


async def test_a_caller_that_goes_away_leaves_the_call_to_the_others(
    gateway: Gateway, gate: Gate
) -> None:
    sent = gateway.record("/invoiced")
    first = asyncio.ensure_future(gateway.execute(FIRST_PAGE))
    await until(gate, lambda: len(gate.held) == 1)
    others = asyncio.gather(*(gateway.execute(FIRST_PAGE) for _ in range(CLIENTS - 1)))
    await until(gate, lambda: joined(gateway) == CLIENTS - 1)
    # The client whose read started the call goes away while the call is out.
    first.cancel()
    await asyncio.wait({first})
    gate.opened.set()
    answers = await others
    assert first.cancelled()
    assert len(sent) == 1
    assert all(codes(answer) == [] for answer in answers)
    assert all(len(answer["data"]["tasks"]["nodes"]) == 5 for answer in answers)


async def test_collapsing_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, gate: Gate) -> None:
    async with gateway_with(monkeypatch, gate, GATEWAY_COLLAPSE_READS="false") as gateway:
        sent = gateway.record("/invoiced")
        answers = await together(gateway, gate, [FIRST_PAGE] * CLIENTS)
    assert len(sent) == CLIENTS
    assert all(answer["data"] == answers[0]["data"] for answer in answers)
    assert all(not calls_of(answer)[0]["collapsed"] for answer in answers)


async def test_identical_writes_are_never_shared(gateway: Gateway, gate: Gate) -> None:
    sent = gateway.record("/invoiced")
    task = {"name": "Chase", "action": "PHONE", "dueDate": "2026-12-01T09:00:00Z"}
    answers = asyncio.gather(
        *(gateway.execute(CREATE_TASK, {"input": task}, accounting=True) for _ in range(2))
    )
    await opened_when(gate, lambda: sum(r.method == "POST" for r in gate.held) == 2)
    created = await answers
    assert [r.method for r in sent].count("POST") == 2
    assert all(codes(answer) == [] for answer in created)
    ids = {answer["data"]["createTask"]["task"]["invoicedId"] for answer in created}
    assert len(ids) == 2
    for answer in created:
        posts = [call for call in calls_of(answer) if call["method"] == "POST"]
        assert [call["collapsed"] for call in posts] == [False]
