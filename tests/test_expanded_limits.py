"""Documents are measured as they would run, fragments expanded, before validation.

A fragment spreading the previous one twice doubles the document's work with each
line: 23 lines (under a kilobyte) stand for 8 million fields, and validation and
execution walk every one of them. Such documents are refused with
OPERATION_TOO_COMPLEX before validation runs and with no upstream call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any

import pytest
import strawberry.schema.schema as strawberry_schema
from graphql import parse

from gateway.api import expansion
from gateway.api.expansion import measure
from gateway.core.ids import encode_id
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes
from tests.harness import gateway_with


def doubling(levels: int, on: str, leaf: str, root: str, inline: bool = False) -> str:
    """``root`` spreads ``F<levels>``; each ``F<n>`` spreads ``F<n-1>`` twice (inside
    inline fragments when ``inline``), and ``F0`` holds ``leaf``."""
    spread = "... on {on} {{ ...F{n} }}" if inline else "...F{n}"
    fragments = [f"fragment F0 on {on} {{ {leaf} }}"]
    for n in range(1, levels + 1):
        twice = " ".join([spread.format(on=on, n=n - 1)] * 2)
        fragments.append(f"fragment F{n} on {on} {{ {twice} }}")
    return root.replace("SPREAD", f"...F{levels}") + "\n" + "\n".join(fragments)


TASK_ID = encode_id(INVOICED, "Task", 700)
PROJECT_ID = encode_id(ZOHO, "Project", "903000000072369")
DOUBLING = {
    "on-query": doubling(23, "Query", "__typename", "{ SPREAD }"),
    "inline-fragments": doubling(20, "Query", "__typename", "{ SPREAD }", inline=True),
    "task-list": doubling(20, "Task", "id name", "{ tasks(first: 100) { nodes { SPREAD } } }"),
    "work-items": doubling(
        20, "WorkItem", "id title", "{ workItems(first: 50) { nodes { ... on Task { SPREAD } } } }"
    ),
    "mutation": doubling(
        20,
        "Mutation",
        f'deleteTask(id: "{TASK_ID}") {{ deletedId }}',
        "mutation Remove { SPREAD }",
    ),
    "unused-fragment": doubling(23, "Query", "__typename", "{ __typename }"),
}


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Every document that reaches graphql-core's validation from now on."""
    seen: list[object] = []
    validate: Any = vars(strawberry_schema)["validate"]

    def counted(schema: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(document)
        return validate(schema, document, *args, **kwargs)

    monkeypatch.setattr(strawberry_schema, "validate", counted)
    yield seen


async def refused_unvalidated(
    gateway: Gateway, validations: list[object], body: dict[str, Any]
) -> dict[str, Any]:
    reached = gateway.record()
    response = await gateway.client.post(
        "/graphql", json=body, headers={"X-Upstream-Accounting": "1"}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    assert codes(answer) == ["OPERATION_TOO_COMPLEX"], answer
    assert answer["data"] is None
    assert answer["extensions"]["upstreamCalls"]["total"] == 0
    assert reached == []
    assert validations == []
    extensions: dict[str, Any] = answer["errors"][0]["extensions"]
    return extensions


@pytest.mark.parametrize("query", DOUBLING.values(), ids=DOUBLING.keys())
async def test_doubling_fragments_are_refused_before_validation(
    gateway: Gateway, validations: list[object], query: str
) -> None:
    assert len(query.encode()) < 2000
    extensions = await refused_unvalidated(gateway, validations, {"query": query})
    assert extensions["limit"] == "fields"
    assert extensions["maximum"] == 1000
    assert extensions["actual"] >= 2**20


async def test_the_933_byte_document_counts_its_expansion(
    gateway: Gateway, validations: list[object]
) -> None:
    query = DOUBLING["on-query"]
    assert len(query.encode()) < 1000
    extensions = await refused_unvalidated(gateway, validations, {"query": query})
    assert extensions["actual"] == 2**23


async def test_a_registered_persisted_query_is_measured_too(
    gateway: Gateway, validations: list[object]
) -> None:
    query = DOUBLING["task-list"]
    sha = hashlib.sha256(query.encode()).hexdigest()
    apq = {"persistedQuery": {"version": 1, "sha256Hash": sha}}
    await refused_unvalidated(gateway, validations, {"query": query, "extensions": apq})
    await refused_unvalidated(gateway, validations, {"extensions": apq})


# Depth and aliases reached only through fragments; the field limit is raised
# out of the way, and each document is under the other limits.
THROUGH_FRAGMENTS = [
    (
        "depth",
        f'{{ project(id: "{PROJECT_ID}") {{ ...P1 }} }}'
        " fragment P1 on Project { tasks(first: 1) { nodes { project { ...P2 } } } }"
        " fragment P2 on Project { tasks(first: 1) { nodes { project { ...P3 } } } }"
        " fragment P3 on Project { tasks(first: 1) { nodes { project { name } } } }",
    ),
    ("aliases", doubling(5, "Query", "a: __typename b: __typename", "{ SPREAD }")),
]


@pytest.mark.parametrize(("limit", "query"), THROUGH_FRAGMENTS, ids=["depth", "aliases"])
async def test_depth_and_aliases_count_through_fragments_before_validation(
    monkeypatch: pytest.MonkeyPatch, validations: list[object], limit: str, query: str
) -> None:
    async with gateway_with(monkeypatch, GATEWAY_MAX_FIELDS="100000") as gateway:
        extensions = await refused_unvalidated(gateway, validations, {"query": query})
    assert extensions["limit"] == limit


async def test_a_large_document_of_fragments_within_the_limits_runs(
    gateway: Gateway, validations: list[object]
) -> None:
    query = """query Board {
      open: tasks(first: 5, filter: {complete: false}) { nodes { ...TaskFields } }
      done: tasks(first: 5, filter: {complete: true}) { nodes { ...TaskFields } }
      workItems(first: 20, sort: {field: CREATED_AT, descending: true}) {
        edges { cursor node { ...Work } }
        nodes { ...Work }
      }
      projects(first: 2) { nodes { id name tasks(first: 3) { nodes { ...ProjectTaskFields } } } }
    }
    fragment TaskFields on Task { id name action dueDate customerId complete }
    fragment ProjectTaskFields on ProjectTask { id title loggedHours url }
    fragment Work on WorkItem {
      __typename id title vendor dueAt createdAt url
      ... on Task { ...TaskFields }
      ... on ProjectTask { ...ProjectTaskFields }
      ... on Todo { text }
    }"""
    size = measure(parse(query))
    assert 50 < size.fields <= 1000
    body = await gateway.execute(query)
    assert "errors" not in body, body
    assert len(body["data"]["open"]["nodes"]) == 5
    assert len(body["data"]["workItems"]["nodes"]) == 20
    assert len(validations) == 1


def test_measuring_walks_each_definition_once(monkeypatch: pytest.MonkeyPatch) -> None:
    walked: list[object] = []
    own = expansion._own

    def counted(selection_set: Any) -> Any:
        walked.append(selection_set)
        return own(selection_set)

    monkeypatch.setattr(expansion, "_own", counted)
    # 400 doublings: 2**400 fields once expanded; 401 fragments and one operation.
    size = measure(parse(doubling(400, "Query", "__typename", "{ SPREAD }")))
    assert size.fields == 2**400
    assert len(walked) == 402


def test_cycles_and_unknown_fragments_are_left_to_validation() -> None:
    cyclic = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A __typename }"
    assert measure(parse(cyclic)).fields == 1
    assert measure(parse("{ ...Nowhere __typename }")).fields == 1
