"""Compiled plans are kept per schema, operation and @skip/@include values: a plan is
never answered for another operation of the same document, another combination of
condition variables, or another schema."""

from __future__ import annotations

import pytest

from gateway.api.compiled.plan import PlanCache, plan_cache, plan_caches
from gateway.api.schema import build_schema
from tests.conftest import Gateway
from tests.harness import gateway_with

TWO_OPERATIONS = """
query Names { tasks(first: 2) { nodes { name } } }
query Ids { tasks(first: 2) { nodes { id } } }
"""
CONDITIONAL = """query Conditional($brief: Boolean!) {
  tasks(first: 2) { nodes { id name @skip(if: $brief) ...More @include(if: $brief) } }
}
fragment More on Task { complete }"""


async def _nodes(gateway: Gateway, query: str, **extra: object) -> list[dict[str, object]]:
    response = await gateway.client.post("/graphql", json={"query": query, **extra})
    body = response.json()
    assert response.status_code == 200 and "errors" not in body, body
    nodes: list[dict[str, object]] = body["data"]["tasks"]["nodes"]
    return nodes


def _new_caches(before: list[PlanCache]) -> list[int]:
    """How many operations each schema made since ``before`` holds plans for."""
    return [len(cache) for cache in plan_caches() if all(cache is not b for b in before)]


async def test_each_operation_of_a_document_runs_its_own_plan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    before = plan_caches()
    async with gateway_with(monkeypatch, GATEWAY_EXECUTOR="compiled") as gateway:
        for _ in range(2):
            names = await _nodes(gateway, TWO_OPERATIONS, operationName="Names")
            ids = await _nodes(gateway, TWO_OPERATIONS, operationName="Ids")
            assert [set(node) for node in names] == [{"name"}] * 2
            assert [set(node) for node in ids] == [{"id"}] * 2
        assert _new_caches(before) == [2]


async def test_condition_variables_choose_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    before = plan_caches()
    async with gateway_with(monkeypatch, GATEWAY_EXECUTOR="compiled") as gateway:
        for _ in range(2):
            full = await _nodes(gateway, CONDITIONAL, variables={"brief": False})
            brief = await _nodes(gateway, CONDITIONAL, variables={"brief": True})
            assert [set(node) for node in full] == [{"id", "name"}] * 2
            assert [set(node) for node in brief] == [{"id", "complete"}] * 2
        assert _new_caches(before) == [1]


def test_every_schema_has_its_own_plans() -> None:
    first, second = build_schema(executor="compiled"), build_schema(executor="compiled")
    assert plan_cache(first._schema) is not plan_cache(second._schema)
    assert plan_cache(first._schema) is plan_cache(first._schema)
