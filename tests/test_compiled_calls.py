"""Compiled plans call a resolver field through the call compiled for it, not through
Strawberry's generic per-call wrapper (which converts the arguments on every call):
with literal arguments and with variables, the answers are the resolver's."""

from __future__ import annotations

from typing import Any

import pytest
from strawberry.schema import schema_converter

from tests.harness import gateway_with

LITERAL = "{ tasks(first: 2) { nodes { id name } } }"
VARIABLE = "query Page($first: Int) { tasks(first: $first) { nodes { id } } }"


async def _conversions(monkeypatch: pytest.MonkeyPatch, executor: str) -> tuple[int, list[int]]:
    """How often Strawberry's wrapper converted arguments, and the pages' sizes."""
    calls = 0
    wrapped = schema_converter.get_arguments

    def counted(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        return wrapped(**kwargs)

    monkeypatch.setattr(schema_converter, "get_arguments", counted)
    sizes = []
    async with gateway_with(monkeypatch, GATEWAY_EXECUTOR=executor) as gateway:
        for query, variables in ((LITERAL, {}), (VARIABLE, {"first": 1}), (VARIABLE, {"first": 3})):
            response = await gateway.client.post(
                "/graphql", json={"query": query, "variables": variables}
            )
            body = response.json()
            assert response.status_code == 200 and "errors" not in body, body
            sizes.append(len(body["data"]["tasks"]["nodes"]))
    return calls, sizes


async def test_compiled_plans_call_resolvers_without_the_per_call_wrapper(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # graphql-core's path converts on every call: the count sees the wrapper.
    assert await _conversions(monkeypatch, "graphql-core") == (3, [2, 1, 3])
    assert await _conversions(monkeypatch, "compiled") == (0, [2, 1, 3])
