"""Malformed `_entities` representations: each is BAD_USER_INPUT at its own
`["_entities", i]` path, while the valid ones around it still resolve."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from gateway.core.ids import encode_id
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from tests.conftest import Gateway

# The subgraph schema, as a federation router reaches it.
pytestmark = pytest.mark.federation

ENTITIES = """query($r: [_Any!]!) {
  _entities(representations: $r) { __typename ... on Node { id } }
}"""


def raw_id(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


async def valid_ids(gateway: Gateway) -> tuple[str, str]:
    data = (
        await gateway.execute(
            "{ tasks(first: 1) { nodes { id } } todos(first: 1) { nodes { id } } }"
        )
    )["data"]
    return data["tasks"]["nodes"][0]["id"], data["todos"]["nodes"][0]["id"]


TODO_ID = encode_id(FAKTUROID, "Todo", 1)

MALFORMED: dict[str, Any] = {
    "empty object": {},
    "no id": {"__typename": "Task"},
    "no typename": {"id": encode_id(INVOICED, "Task", 1)},
    "extra key": {"__typename": "Task", "id": encode_id(INVOICED, "Task", 1), "x": 1},
    "id not a string": {"__typename": "Task", "id": 788},
    "id null": {"__typename": "Task", "id": None},
    "typename not a string": {"__typename": ["Task"], "id": encode_id(INVOICED, "Task", 1)},
    "unknown typename": {"__typename": "Spaceship", "id": encode_id(INVOICED, "Task", 1)},
    "typename of a non-entity": {
        "__typename": "PageInfo",
        "id": encode_id(INVOICED, "Task", 1),
    },
    "id of another type": {"__typename": "Task", "id": TODO_ID},
    "id of another vendor": {"__typename": "Task", "id": raw_id("zoho:Task:788")},
    "garbage id": {"__typename": "Task", "id": "%%% not an id %%%"},
    "non-numeric key": {"__typename": "Invoice", "id": raw_id("readydesk:Invoice:12abc")},
    "bad composite key": {"__typename": "ProjectTask", "id": raw_id("zoho:ProjectTask:1")},
    "not an object": "Task:788",
    "a list": [{"__typename": "Task"}],
}


@pytest.mark.parametrize("representation", MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_representation_is_bad_input_at_its_own_index(
    gateway: Gateway, representation: Any
) -> None:
    task_id, todo_id = await valid_ids(gateway)
    body = await gateway.execute(
        ENTITIES,
        {
            "r": [
                {"__typename": "Task", "id": task_id},
                representation,
                {"__typename": "Todo", "id": todo_id},
            ]
        },
    )
    entities = body["data"]["_entities"]
    assert entities[0] == {"__typename": "Task", "id": task_id}
    assert entities[1] is None
    assert entities[2] == {"__typename": "Todo", "id": todo_id}
    [error] = body["errors"]
    assert error["path"] == ["_entities", 1]
    assert error["extensions"]["code"] == "BAD_USER_INPUT", error
    assert error["extensions"]["field"] == "representations"


async def test_every_malformed_representation_in_one_list(gateway: Gateway) -> None:
    task_id, _ = await valid_ids(gateway)
    representations = [*MALFORMED.values(), {"__typename": "Task", "id": task_id}]
    # Fresh reads: the valid task's read goes to the vendor, not to the list that showed it.
    fresh = {"Cache-Control": "no-cache"}
    body = await gateway.execute(ENTITIES, {"r": representations}, accounting=True, headers=fresh)
    entities = body["data"]["_entities"]
    assert entities[:-1] == [None] * len(MALFORMED)
    assert entities[-1] == {"__typename": "Task", "id": task_id}
    assert sorted(e["path"][1] for e in body["errors"]) == list(range(len(MALFORMED)))
    assert {e["extensions"]["code"] for e in body["errors"]} == {"BAD_USER_INPUT"}
    # Refused before any upstream call: only the one valid task is read.
    assert body["extensions"]["upstreamCalls"]["total"] == 1


async def test_well_formed_id_that_names_nothing_is_null_without_error(gateway: Gateway) -> None:
    body = await gateway.execute(
        ENTITIES, {"r": [{"__typename": "Task", "id": encode_id(INVOICED, "Task", 999999)}]}
    )
    assert body["data"]["_entities"] == [None]
    assert "errors" not in body


async def test_node_refuses_an_id_whose_vendor_does_not_have_the_type(gateway: Gateway) -> None:
    task_id, _ = await valid_ids(gateway)
    invoiced_number = base64.urlsafe_b64decode(task_id + "==").decode().rsplit(":", 1)[1]
    body = await gateway.execute(
        "query($id: ID!) { node(id: $id) { id } }",
        {"id": raw_id(f"zoho:Task:{invoiced_number}")},
        accounting=True,
    )
    assert body["data"] == {"node": None}
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"]
    assert body["extensions"]["upstreamCalls"]["total"] == 0
