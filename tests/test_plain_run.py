"""The common `/graphql` request (gateway.http.plain_run) answers exactly as strawberry's
own ``run`` does: the same status, headers and bytes, errors and refusals included."""

from __future__ import annotations

import gc
from typing import Any

import httpx
import pytest

import gateway.http.view as view_module
from gateway.core.ids import encode_id
from gateway.http import plain_run
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway

# Each request calls the vendor: a cached read would change the freshness extension.
pytestmark = pytest.mark.usefixtures("cache_off")

NEW = "application/graphql-response+json"
TASKS = "{ tasks(first: 3) { nodes { id name action dueDate complete } } }"
ONE = "query One($id: ID!) { node(id: $id) { id ... on Task { name } } }"
# What the CSRF rule wants on a GET (or a body that is not JSON).
GET_HEADERS = {"Apollo-Require-Preflight": "true"}

REQUESTS: list[tuple[str, dict[str, Any]]] = [
    ("POST", {"json": {"query": TASKS}}),
    ("POST", {"json": {"query": TASKS}, "headers": {"Accept": NEW}}),
    ("POST", {"json": {"query": ONE, "variables": {"id": encode_id(INVOICED, "Task", 1)}}}),
    ("POST", {"json": {"query": ONE, "variables": {"id": None}}, "headers": {"Accept": NEW}}),
    ("POST", {"json": {"query": "{ nope }"}}),
    ("POST", {"json": {"query": "{ nope }"}, "headers": {"Accept": NEW}}),
    ("POST", {"json": {"query": "{ tasks(first: 1) { nodes { id } } "}}),
    ("POST", {"json": {"query": 7}}),
    ("POST", {"json": {"query": TASKS, "variables": [1]}}),
    ("POST", {"json": {"query": TASKS, "extensions": "x"}}),
    ("POST", {"json": {"query": TASKS, "operationName": 3}}),
    ("POST", {"json": {"variables": {}}}),
    ("POST", {"json": [{"query": TASKS}]}),
    ("POST", {"content": b"{not json", "headers": {"Content-Type": "application/json"}}),
    ("POST", {"json": {"query": "query A { tasks { totalCount } } query B { __typename }"}}),
    ("POST", {"json": {"query": TASKS, "extensions": {"persistedQuery": {"version": 1}}}}),
    ("POST", {"json": {"query": "subscription { workItemChanged { id } }"}}),
    ("GET", {"params": {"query": TASKS}, "headers": GET_HEADERS}),
    ("GET", {"params": {"query": TASKS}, "headers": {**GET_HEADERS, "Accept": NEW}}),
    ("GET", {"params": {"query": "{ nope }"}, "headers": GET_HEADERS}),
    ("GET", {"params": {"query": "mutation { __typename }"}, "headers": GET_HEADERS}),
    ("GET", {"params": {"query": TASKS, "variables": "[1"}, "headers": GET_HEADERS}),
    ("POST", {"content": b"{ __typename }", "headers": {**GET_HEADERS, "Content-Type": "text/x"}}),
]


def _compared(response: httpx.Response) -> tuple[int, list[tuple[str, str]], bytes]:
    # Every request has its own id.
    headers = [(k, v) for k, v in response.headers.multi_items() if k != "x-request-id"]
    return response.status_code, headers, response.content


@pytest.mark.parametrize(("method", "options"), REQUESTS)
async def test_the_plain_run_answers_as_strawberrys_run(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, method: str, options: dict[str, Any]
) -> None:
    plain = await gateway.client.request(method, "/graphql", **options)
    with monkeypatch.context() as patched:
        patched.setattr(view_module, "is_plain", lambda *_: False)
        viewed = await gateway.client.request(method, "/graphql", **options)
    assert _compared(plain) == _compared(viewed)


async def test_an_unchanged_get_answer_is_304_on_either_path(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await gateway.client.get("/graphql", params={"query": TASKS}, headers=GET_HEADERS)
    validator = {**GET_HEADERS, "If-None-Match": first.headers["etag"]}
    plain = await gateway.client.get("/graphql", params={"query": TASKS}, headers=validator)
    with monkeypatch.context() as patched:
        patched.setattr(view_module, "is_plain", lambda *_: False)
        viewed = await gateway.client.get("/graphql", params={"query": TASKS}, headers=validator)
    assert plain.status_code == 304
    assert _compared(plain) == _compared(viewed)


async def test_the_common_requests_take_the_plain_run(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken: list[bool] = []
    original = plain_run.is_plain

    def noted(*args: Any) -> bool:
        taken.append(original(*args))
        return taken[-1]

    monkeypatch.setattr(view_module, "is_plain", noted)
    await gateway.client.post("/graphql", json={"query": TASKS})
    await gateway.client.get("/graphql", params={"query": TASKS}, headers=GET_HEADERS)
    sse = {"Accept": "text/event-stream"}
    await gateway.client.post("/graphql", json={"query": "{ __typename }"}, headers=sse)
    other = {**GET_HEADERS, "Content-Type": "application/graphql"}
    await gateway.client.post("/graphql", content=b"{ __typename }", headers=other)
    assert taken == [True, True, False, False]


async def test_a_request_leaves_nothing_for_the_cyclic_collector(gateway: Gateway) -> None:
    # Reference cycles through the request, its context or the compiled executor would keep each
    # request's whole graph until the collector runs (CPU per request, docs/benchmarks.md).
    await gateway.client.post("/graphql", json={"query": TASKS})
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        await gateway.client.post("/graphql", json={"query": TASKS})
        gc.collect()
        ours = ("gateway.", "graphql.", "strawberry.", "starlette.")
        left = {
            type(kept).__qualname__ for kept in gc.garbage if type(kept).__module__.startswith(ours)
        }
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
    assert left == set()
