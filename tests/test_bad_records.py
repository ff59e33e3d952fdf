"""One record a vendor sends in a shape the gateway cannot read fails alone: it is an
UPSTREAM_BAD_RESPONSE error at its own path, the item is null, and the list answers
with every other record (workItems reports it and keeps the vendor's other items)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.conftest import codes
from tests.harness import gateway_with

Rewrite = Callable[[bytes], bytes]


class Corrupting(httpx.AsyncBaseTransport):
    """The sandbox, with the answers to one path rewritten by ``rewrite``."""

    def __init__(self, inner: httpx.AsyncBaseTransport, path: str, rewrite: Rewrite) -> None:
        self.inner, self.path, self.rewrite = inner, path, rewrite

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not re.search(self.path, request.url.path):
            return response
        body = self.rewrite(await response.aread())
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return httpx.Response(response.status_code, headers=headers, content=body)


def json_record(index: int, key: str | None, field: str, value: Any) -> Rewrite:
    def rewrite(body: bytes) -> bytes:
        data = json.loads(body)
        rows = data if key is None else data[key]
        if len(rows) > index:
            rows[index][field] = value
        return json.dumps(data).encode()

    return rewrite


CASES = {
    "invoiced tasks": (
        r"/invoiced/tasks$",
        json_record(3, None, "id", "not a number"),
        "{ tasks(first: 6) { nodes { id } edges { cursor node { id } } } }",
        ("tasks",),
        3,
        "invoiced",
    ),
    "zoho projects": (
        r"/projects$",
        json_record(1, "projects", "project_id", {"nested": 1}),
        "{ projects(first: 5) { nodes { id } edges { cursor node { id } } } }",
        ("projects",),
        1,
        "zoho",
    ),
    "zoho project tasks": (
        r"/projects/\d+/tasks$",
        json_record(0, "tasks", "task_id", {"nested": 1}),
        "{ projects(first: 1) { nodes { tasks { nodes { id } edges { cursor node { id } } } } } }",
        ("projects", "nodes", 0, "tasks"),
        0,
        "zoho",
    ),
    "fakturoid todos": (
        r"/todos\.json$",
        json_record(2, None, "created_at", "soon"),
        "{ todos(first: 5) { nodes { id } edges { cursor node { id } } } }",
        ("todos",),
        2,
        "fakturoid",
    ),
    "readydesk invoices": (
        r"/readydesk/",
        json_record(1, "invoices", "status", "VOID"),
        "{ invoices(first: 4) { nodes { id } edges { cursor node { id } } } }",
        ("invoices",),
        1,
        "readydesk",
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
async def test_a_bad_record_fails_alone_in_its_place(
    monkeypatch: pytest.MonkeyPatch, case: tuple[Any, ...]
) -> None:
    path, rewrite, query, at, index, vendor = case
    async with gateway_with(monkeypatch) as clean:
        expected = await clean.execute(query)
    async with gateway_with(monkeypatch) as probe:
        inner = probe.transport.inner
        probe.transport.inner = Corrupting(inner, path, rewrite)
        body = await probe.execute(query)
    connection: Any = body["data"]
    for step in at:
        connection = connection[step]
    good: Any = expected["data"]
    for step in at:
        good = good[step]
    assert connection is not None, body
    nodes = connection["nodes"]
    assert len(nodes) == len(good["nodes"])
    assert nodes[index] is None
    assert [n for i, n in enumerate(nodes) if i != index] == [
        n for i, n in enumerate(good["nodes"]) if i != index
    ]
    assert connection["edges"][index]["node"] is None
    assert connection["edges"][index]["cursor"] == good["edges"][index]["cursor"]
    assert set(codes(body)) == {"UPSTREAM_BAD_RESPONSE"}
    paths = sorted(tuple(error["path"]) for error in body["errors"])
    assert paths == sorted([(*at, "nodes", index), (*at, "edges", index, "node")])
    assert {error["extensions"]["vendor"] for error in body["errors"]} == {vendor}


WORK_CASES = {
    "invoiced": (r"/invoiced/tasks$", json_record(0, None, "due_date", "soon")),
    "zoho": (r"/projects/\d+/tasks$", json_record(0, "tasks", "task_id", {"nested": 1})),
    "fakturoid": (r"/todos\.json$", json_record(0, None, "created_at", "soon")),
}


@pytest.mark.parametrize(("vendor", "case"), WORK_CASES.items(), ids=list(WORK_CASES))
@pytest.mark.parametrize("sort", ["DUE_AT", "TITLE"])
async def test_work_items_report_a_bad_record_and_keep_its_vendor(
    monkeypatch: pytest.MonkeyPatch, vendor: str, case: tuple[str, Rewrite], sort: str
) -> None:
    path, rewrite = case
    query = f"""{{ workItems(first: 100, filter: {{vendors: [{vendor.upper()}]}},
                   sort: {{field: {sort}}}) {{ missingVendors nodes {{ id }} }} }}"""
    async with gateway_with(monkeypatch) as clean:
        expected = await clean.execute(query)
    async with gateway_with(monkeypatch) as probe:
        probe.transport.inner = Corrupting(probe.transport.inner, path, rewrite)
        body = await probe.execute(query)
    work = body["data"]["workItems"]
    assert work["missingVendors"] == []
    assert set(codes(body)) == {"UPSTREAM_BAD_RESPONSE"}
    assert all(error["path"] == ["workItems"] for error in body["errors"])
    assert all(error["extensions"]["vendor"] == vendor for error in body["errors"])
    assert 0 < len(work["nodes"]) < len(expected["data"]["workItems"]["nodes"])
