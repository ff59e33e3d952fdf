"""Operation limits: refused before execution, with OPERATION_TOO_COMPLEX and no upstream call."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from graphql import parse

from gateway.api.cost import estimate_upstream_calls
from gateway.api.schema import GatewaySchema, build_schema
from gateway.core.ids import encode_id
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes
from tests.harness import gateway_with


async def refused(
    gateway: Gateway, query: str, variables: dict[str, Any] | None = None
) -> dict[str, Any]:
    reached = gateway.record()
    body = await gateway.execute(query, variables, accounting=True)
    assert codes(body) == ["OPERATION_TOO_COMPLEX"], body
    assert body["data"] is None
    assert body["extensions"]["upstreamCalls"]["total"] == 0
    assert reached == []
    extensions: dict[str, Any] = body["errors"][0]["extensions"]
    assert extensions["actual"] > extensions["maximum"]
    return extensions


def aliased(count: int, field: str) -> str:
    return "{ " + " ".join(f"a{i}: {field}" for i in range(count)) + " }"


def nested_project_tasks(levels: int) -> str:
    """`project { tasks { nodes { project { tasks { ... } } } } }`, ``levels`` projects deep."""
    selection = "name"
    for _ in range(levels):
        selection = f"name tasks(first: 20) {{ nodes {{ project {{ {selection} }} }} }}"
    project_id = encode_id(ZOHO, "Project", "903000000072369")
    return f'{{ project(id: "{project_id}") {{ {selection} }} }}'


REPRESENTATIONS = [
    {"__typename": "Task", "id": encode_id(INVOICED, "Task", 700 + i)} for i in range(200)
]
ENTITIES = "query($r: [_Any!]!) { _entities(representations: $r) { ... on Task { name } } }"


@pytest.mark.parametrize(
    ("query", "variables"),
    [
        (aliased(1000, "tasks(first: 1) { totalCount }"), None),
        (aliased(1000, "invoices(first: 1) { totalCount }"), None),
        pytest.param(ENTITIES, {"r": REPRESENTATIONS}, marks=pytest.mark.federation),
        (nested_project_tasks(7), None),
        ("{ " + "__typename " * 5000 + "}", None),
    ],
    ids=["1000-task-aliases", "1000-invoice-aliases", "200-entities", "7-levels", "tokens"],
)
async def test_expensive_operations_are_refused_before_any_upstream_call(
    gateway: Gateway, query: str, variables: dict[str, Any] | None
) -> None:
    await refused(gateway, query, variables)


# Each limit alone, the others raised out of the way: the right one refuses.
LOOSE = {
    "GATEWAY_MAX_DEPTH": "100",
    "GATEWAY_MAX_ALIASES": "100000",
    "GATEWAY_MAX_TOKENS": "1000000",
    "GATEWAY_MAX_FIELDS": "100000000",
    "GATEWAY_MAX_UPSTREAM_CALLS": "1000000",
    # `_entities` is a field of the subgraph schema only.
    "GATEWAY_FEDERATION": "true",
}


@pytest.mark.parametrize(
    ("limit", "query", "variables"),
    [
        ("aliases", aliased(1000, "tasks(first: 1) { totalCount }"), None),
        ("tokens", "{ " + "__typename " * 5000 + "}", None),
        ("depth", nested_project_tasks(3), None),
        ("upstreamCalls", aliased(1000, "invoices(first: 1) { totalCount }"), None),
        ("upstreamCalls", ENTITIES, {"r": REPRESENTATIONS}),
        ("upstreamCalls", nested_project_tasks(2), None),
    ],
)
async def test_each_limit_refuses_on_its_own(
    monkeypatch: pytest.MonkeyPatch,
    limit: str,
    query: str,
    variables: dict[str, Any] | None,
) -> None:
    knob = {
        "aliases": "GATEWAY_MAX_ALIASES",
        "tokens": "GATEWAY_MAX_TOKENS",
        "depth": "GATEWAY_MAX_DEPTH",
        "upstreamCalls": "GATEWAY_MAX_UPSTREAM_CALLS",
    }[limit]
    defaults = {"aliases": "30", "tokens": "2000", "depth": "8", "upstreamCalls": "60"}
    async with gateway_with(monkeypatch, **{**LOOSE, knob: defaults[limit]}) as gateway:
        extensions = await refused(gateway, query, variables)
    assert extensions["limit"] == limit
    assert extensions["maximum"] == int(defaults[limit])


async def test_the_budget_counts_fragments_and_variables(gateway: Gateway) -> None:
    query = """query($n: Int) { ...Lists }
        fragment Lists on Query { projects(first: $n) { nodes { ...Tasks } } }
        fragment Tasks on Project { tasks(first: 5) { totalCount } }"""
    extensions = await refused(gateway, query, {"n": 100})
    assert extensions == {
        "code": "OPERATION_TOO_COMPLEX",
        "limit": "upstreamCalls",
        "maximum": 60,
        "actual": 102,
    }
    small = await gateway.execute(query, {"n": 2}, accounting=True)
    assert "errors" not in small
    # A page of 2 projects, their tasks, and the OAuth token Zoho wants first.
    assert small["extensions"]["upstreamCalls"]["total"] == 4
    # Estimates are remembered per document and variables, never across variables.
    again = await refused(gateway, query, {"n": 100})
    assert again["actual"] == 102


@cache
def served_schema() -> GatewaySchema:
    return build_schema()


def estimate(query: str, variables: dict[str, Any] | None = None) -> int:
    schema = served_schema()
    return estimate_upstream_calls(schema._schema, parse(query), None, variables, schema.costs)


def test_nested_lists_multiply() -> None:
    # 1 + 20, and one token fetch for Zoho.
    assert estimate("{ projects(first: 20) { nodes { tasks { nodes { name } } } } }") == 22
    assert estimate("{ projects(first: 20) { edges { node { tasks { totalCount } } } } }") == 22
    assert estimate("{ invoices(first: 20) { nodes { lineItems { title } } } }") == 2
    assert estimate("{ invoices(first: 20) { totalCount nodes { lineItems { title } } } }") == 3
    assert estimate("{ tasks(first: 20) { nodes { name } } }") == 1
    assert estimate('{ tasks(first: 20, after: "b2Zmc2V0OjE5") { nodes { name } } }') == 2
    assert estimate("{ workItems(filter: {vendors: [INVOICED]}) { nodes { id } } }") == 10 + 2
    assert estimate("{ workItems { nodes { id } } }") == 30 + 2
    assert estimate('{ nodes(ids: ["a", "b", "c"]) { id } }') == 3 + 2
    assert estimate("{ todos(first: 100) { nodes { id } } }") == 3 + 1
    assert estimate("{ todos(first: 3, completed: false) { nodes { id } } }") == 50 + 1
    assert estimate('mutation { deleteTask(id: "x") { deletedId } }') == 2 + 2


EXAMPLE_QUERIES: list[tuple[str, dict[str, Any]]] = [
    (
        """query {
  tasks(first: 10, filter: {complete: false, action: PHONE},
        sort: [{field: DUE_DATE, order: ASC}]) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { id name action dueDate customerId complete }
  }
}""",
        {},
    ),
    (
        """query ActiveProjects {
  projects(first: 2, filter: {status: ACTIVE}, sort: {field: UPDATED_AT, order: DESC}) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id name customerName status billingType rate totalHours unbilledHours
      tasks(first: 3) { totalCount nodes { id title loggedHours billedHours rate url } }
    }
  }
}""",
        {},
    ),
    (
        """{
  invoices(first: 2, filter: {dateFrom: "2024-01-01", dateTo: "2024-06-30", status: PAID},
           sort: {field: TOTAL, order: DESC}) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes {
      id invoiceId customerId companyName invoiceDate fromDate toDate total billingType status
      lineItems { lineItemId title cost duration timeUnit }
    }
  }
}""",
        {},
    ),
    (
        """query Todos($since: DateTime) {
  todos(first: 3, since: $since, completed: false) {
    pageInfo { hasNextPage endCursor }
    nodes { id fakturoidId name title createdAt completed relatedObjects { type id url } params }
  }
}""",
        {"since": "2025-12-01T00:00:00+01:00"},
    ),
    (
        """query {
  workItems(first: 20, filter: {completed: false}, sort: {field: DUE_AT}) {
    missingVendors
    pageInfo { hasNextPage endCursor }
    nodes {
      __typename id title vendor dueAt createdAt url
      ... on Task { action customerId }
      ... on ProjectTask { projectName }
      ... on Todo { text }
    }
  }
}""",
        {},
    ),
]


@pytest.mark.parametrize(("query", "variables"), EXAMPLE_QUERIES)
async def test_example_queries_are_accepted_and_within_their_estimate(
    gateway: Gateway, query: str, variables: dict[str, Any]
) -> None:
    body = await gateway.execute(query, variables, accounting=True)
    assert "errors" not in body, body
    assert body["extensions"]["upstreamCalls"]["total"] <= estimate(query, variables)


async def test_graphiql_introspection_is_within_the_limits(gateway: Gateway) -> None:
    from graphql import get_introspection_query

    body = await gateway.execute(get_introspection_query(descriptions=True))
    assert "errors" not in body
