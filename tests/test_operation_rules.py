"""The gateway's operation rules (limits, operation choice, introspection, parse and
validation caches) give the same answers on both of the schema's paths: the lean run
of a query or mutation (gateway.api.operation.run_operation) and strawberry's own
pipeline with its extension hooks, which a traced gateway takes (resolver spans are
a second extension). Every request goes over HTTP to both gateways in front of the
same sandboxes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider

from gateway.api.limits import OperationLimits
from gateway.api.schema import build_schema
from gateway.config import Settings
from gateway.core.settings import GatewaySettings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from tests.conftest import gateway_settings

LIMITS = {
    "GATEWAY_MAX_DEPTH": "2",
    "GATEWAY_MAX_ALIASES": "3",
    "GATEWAY_MAX_FIELDS": "40",
    "GATEWAY_MAX_TOKENS": "120",
    "GATEWAY_MAX_UPSTREAM_CALLS": "5",
    "GATEWAY_INTROSPECTION": "false",
    "GATEWAY_CACHE": "false",
}

# A GET passes the CSRF rule with this header (gateway.http.guard).
PREFLIGHTED = {"Apollo-Require-Preflight": "true"}
TASKS = "{ tasks(first: 2) { nodes { id name complete } } }"
CASES: list[tuple[str, dict[str, Any]]] = [
    ("a query", {"query": TASKS}),
    ("a query by name", {"query": "query T " + TASKS, "operationName": "T"}),
    (
        "variables",
        {"query": "query T($n: Int!) { tasks(first: $n) { nodes { id } } }", "variables": {"n": 1}},
    ),
    ("a parse error", {"query": "{ tasks(first: 2) { nodes { id }"}),
    ("an unknown field", {"query": "{ tasks(first: 2) { nodes { nope } } }"}),
    ("a missing variable", {"query": "query T($n: Int!) { tasks(first: $n) { nodes { id } } }"}),
    ("two operations, no name", {"query": "query A { __typename } query B { __typename }"}),
    (
        "two operations, one named",
        {"query": "query A { __typename } query B " + TASKS, "operationName": "B"},
    ),
    ("an unknown operation name", {"query": TASKS, "operationName": "Nope"}),
    ("too many aliases", {"query": "{ a: __typename b: __typename c: __typename d: __typename }"}),
    (
        "too deep",
        {"query": "{ tasks(first: 1) { edges { node { id } } } }"},
    ),
    ("too many tokens", {"query": "{ " + " ".join(["__typename"] * 130) + " }"}),
    (
        "too many upstream calls",
        {
            "query": "{ a: tasks(first: 100) { nodes { id } } "
            "b: projects(first: 100) { nodes { id } } c: todos(first: 100) { nodes { id } } }"
        },
    ),
    ("introspection, off", {"query": "{ __schema { queryType { name } } }"}),
    ("an empty query", {"query": ""}),
    ("a mutation", {"query": 'mutation { toggleTaskCompletion(id: "nope") { task { id } } }'}),
]


@asynccontextmanager
async def gateways(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, ...]]:
    sandboxes = httpx.ASGITransport(app=create_sandbox_app(settings.plugins))
    transports = {plugin.vendor: sandboxes for plugin in settings.plugins}
    lean = create_app(settings, transports=transports)
    traced = create_app(settings, transports=transports, tracer_provider=TracerProvider())
    clients = [
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        for app in (lean, traced)
    ]
    try:
        yield tuple(clients)
    finally:
        for client in clients:
            await client.aclose()
        for app in (lean, traced):
            await app.state.adapters.aclose()


def test_only_the_gateways_rules_make_a_schema_run_lean() -> None:
    limits = OperationLimits.from_settings(GatewaySettings())
    assert build_schema(limits=limits, executor="compiled").lean
    assert not build_schema(limits=limits, executor="compiled", traced=True).lean


@pytest.mark.parametrize(("name", "body"), CASES, ids=[name for name, _ in CASES])
async def test_both_paths_answer_alike(
    monkeypatch: pytest.MonkeyPatch, name: str, body: dict[str, Any]
) -> None:
    for variable, value in LIMITS.items():
        monkeypatch.setenv(variable, value)
    settings = gateway_settings(monkeypatch)
    async with gateways(settings) as (lean, traced):
        answers = [await client.post("/graphql", json=body) for client in (lean, traced)]
        # Over GET too: no mutation there (strawberry's refusal, before any rule).
        params = {key: value for key, value in body.items() if key != "variables"}
        gets = [
            await client.get("/graphql", params=params, headers=PREFLIGHTED)
            for client in (lean, traced)
        ]
    for pair in (answers, gets):
        first, second = pair
        assert first.status_code == second.status_code, name
        assert _comparable(first) == _comparable(second), name


def _comparable(response: httpx.Response) -> Any:
    answer = response.json()
    # How old each vendor's part is depends on when each gateway read it.
    if isinstance(answer, dict):
        answer.get("extensions", {}).pop("freshness", None)
    return answer
