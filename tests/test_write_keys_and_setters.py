"""setTaskCompleted / setTodoCompleted, and the one idempotency-key validator."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.core.ids import encode_id
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes
from tests.test_idempotent_writes import (
    CREATE_PROJECT_TASK,
    CREATE_TASK,
    INVOICED_DONE,
    INVOICED_OPEN,
    STOREFRONT,
    TOGGLE_PROJECT,
    TOGGLE_TASK,
    TOGGLE_TODO,
    ZOHO_ACTIVE,
    open_todo,
    store,
    total_calls,
    writes,
)

SET_TASK = """mutation($id: ID!, $completed: Boolean!) {
  setTaskCompleted(id: $id, completed: $completed) { task { invoicedId complete } } }"""
SET_TODO = """mutation($id: ID!, $completed: Boolean!) {
  setTodoCompleted(id: $id, completed: $completed) { todo { fakturoidId completed } } }"""


def task_id(number: int) -> str:
    return encode_id(INVOICED, "Task", number)


async def test_set_task_completed_writes_only_when_the_state_differs(gateway: Gateway) -> None:
    already = await gateway.execute(
        SET_TASK, {"id": task_id(INVOICED_DONE), "completed": True}, accounting=True
    )
    assert already["data"]["setTaskCompleted"]["task"] == {
        "invoicedId": INVOICED_DONE,
        "complete": True,
    }
    assert writes(already) == []
    assert total_calls(already) == 1  # the read that shows it is done already

    for _ in range(2):  # the second time is a retry: same state, no write
        body = await gateway.execute(
            SET_TASK, {"id": task_id(INVOICED_OPEN), "completed": True}, accounting=True
        )
        assert body["data"]["setTaskCompleted"]["task"]["complete"] is True
    assert writes(body) == []
    assert store(gateway, "/invoiced").tasks[INVOICED_OPEN]["complete"] is True
    reopened = await gateway.execute(
        SET_TASK, {"id": task_id(INVOICED_OPEN), "completed": False}, accounting=True
    )
    assert writes(reopened) == [f"PATCH tasks/{INVOICED_OPEN}"]
    assert store(gateway, "/invoiced").tasks[INVOICED_OPEN]["complete"] is False


async def test_set_todo_completed_toggles_only_when_the_state_differs(gateway: Gateway) -> None:
    todo = open_todo(gateway)
    todos = store(gateway, "/fakturoid").todos
    variables = {"id": encode_id(FAKTUROID, "Todo", todo), "completed": False}
    already = await gateway.execute(SET_TODO, variables, accounting=True)
    assert already["data"]["setTodoCompleted"]["todo"] == {"fakturoidId": todo, "completed": False}
    assert writes(already) == []

    done = {**variables, "completed": True}
    first = await gateway.execute(SET_TODO, done, accounting=True)
    again = await gateway.execute(SET_TODO, done, accounting=True)
    assert len(writes(first)) == 1 and writes(again) == []
    assert again["data"]["setTodoCompleted"]["todo"]["completed"] is True
    assert todos[todo].completed_at is not None

    missing = {"id": encode_id(FAKTUROID, "Todo", 99999), "completed": True}
    absent = await gateway.execute(SET_TODO, missing, accounting=True)
    assert codes(absent) == ["NOT_FOUND"] and writes(absent) == []


def _create_task(key: str) -> tuple[str, dict[str, Any]]:
    task = {"name": "Chase", "action": "PHONE", "dueDate": "2026-12-01T09:00:00Z"}
    return CREATE_TASK, {"input": {**task, "idempotencyKey": key}}


def _create_project_task(key: str) -> tuple[str, dict[str, Any]]:
    project = encode_id(ZOHO, "Project", STOREFRONT)
    return CREATE_PROJECT_TASK, {
        "input": {"projectId": project, "name": "QA", "idempotencyKey": key}
    }


def _toggle_task(key: str) -> tuple[str, dict[str, Any]]:
    return TOGGLE_TASK, {"id": task_id(INVOICED_OPEN), "key": key}


def _toggle_project(key: str) -> tuple[str, dict[str, Any]]:
    return TOGGLE_PROJECT, {"id": encode_id(ZOHO, "Project", ZOHO_ACTIVE), "key": key}


def _toggle_todo(key: str) -> tuple[str, dict[str, Any]]:
    return TOGGLE_TODO, {"id": encode_id(FAKTUROID, "Todo", 1), "key": key}


KEYED_WRITES = {
    "createTask": _create_task,
    "createProjectTask": _create_project_task,
    "toggleTaskCompletion": _toggle_task,
    "toggleProjectActive": _toggle_project,
    "toggleTodoCompletion": _toggle_todo,
}
MALFORMED_KEYS = {
    "non-ASCII": "klíč-0001",
    "CR/LF": "key-0001\r\nX-Injected: 1",
    "tab": "key\t0001",
    "NUL": "key\x000001",
    "space": "key 0001",
    "too short": "k0001",
    "too long": "k" * 65,
}


@pytest.mark.parametrize("mutation", list(KEYED_WRITES))
@pytest.mark.parametrize("problem", list(MALFORMED_KEYS))
async def test_malformed_keys_are_refused_before_any_upstream_call(
    gateway: Gateway, mutation: str, problem: str
) -> None:
    document, variables = KEYED_WRITES[mutation](MALFORMED_KEYS[problem])
    body = await gateway.execute(document, variables, accounting=True)
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "idempotencyKey"
    assert body["data"] == {mutation: None}
    assert total_calls(body) == 0


@pytest.mark.parametrize("mutation", list(KEYED_WRITES))
async def test_keys_at_the_length_bounds_are_accepted(gateway: Gateway, mutation: str) -> None:
    for key in ("k00001", "~" * 64):
        document, variables = KEYED_WRITES[mutation](key)
        body = await gateway.execute(document, variables)
        assert "BAD_USER_INPUT" not in codes(body)
