"""Every value a vendor cannot hold is BAD_USER_INPUT at its field, with no upstream call:
instants outside what a vendor stores, ids no record can have, over-long text."""

from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from gateway.core.ids import encode_id
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.readydesk import READYDESK
from gateway.vendors.zoho import ZOHO
from tests.conftest import Gateway, codes

BEFORE_YEAR_ONE = "0001-01-01T00:00:00+14:00"  # 0000-12-31T10:00:00Z
AFTER_YEAR_9999 = "9999-12-31T23:59:59-14:00"  # 10000-01-01T13:59:59Z
TOO_BIG = 2**63
PROJECT = "903000000072369"


def task(key: object) -> str:
    return encode_id(INVOICED, "Task", key)


def project(key: object) -> str:
    return encode_id(ZOHO, "Project", key)


def project_task(key: object) -> str:
    return encode_id(ZOHO, "ProjectTask", PROJECT, key)


def todo(key: object) -> str:
    return encode_id(FAKTUROID, "Todo", key)


class Case(NamedTuple):
    query: str
    variables: dict[str, Any]
    field: str


CREATE = """mutation($i: CreateTaskInput!) { createTask(input: $i) { task { id } } }"""
UPDATE = """mutation($i: UpdateTaskInput!) { updateTask(input: $i) { task { id } } }"""
TASKS = """query($f: TaskFilter) { tasks(filter: $f) { nodes { id } } }"""
TASK = """query($id: ID!) { task(id: $id) { id } }"""
TOGGLE = """mutation($id: ID!) { toggleTaskCompletion(id: $id) { task { id } } }"""
SET = """mutation($id: ID!) { setTaskCompleted(id: $id, completed: true) { task { id } } }"""
DELETE = """mutation($id: ID!) { deleteTask(id: $id) { deletedId } }"""
PROJECTS = """query($f: ProjectFilter) { projects(filter: $f) { nodes { id } } }"""
PROJECT_Q = """query($id: ID!) { project(id: $id) { id } }"""
PROJECT_TASK = """query($id: ID!) { projectTask(id: $id) { id } }"""
CREATE_PT = """mutation($i: CreateProjectTaskInput!) {
  createProjectTask(input: $i) { projectTask { id } } }"""
UPDATE_PT = """mutation($i: UpdateProjectTaskInput!) {
  updateProjectTask(input: $i) { projectTask { id } } }"""
DELETE_PT = """mutation($id: ID!) { deleteProjectTask(id: $id) { deletedId } }"""
SET_ACTIVE = """mutation($id: ID!) { setProjectActive(id: $id, active: true) { project { id } } }"""
TOGGLE_ACTIVE = """mutation($id: ID!) { toggleProjectActive(id: $id) { project { id } } }"""
TODOS = """query($since: DateTime) { todos(since: $since) { nodes { id } } }"""
TODO = """query($id: ID!) { todo(id: $id) { id } }"""
TOGGLE_TODO = """mutation($id: ID!) { toggleTodoCompletion(id: $id) { todo { id } } }"""
SET_TODO = """mutation($id: ID!) { setTodoCompleted(id: $id, completed: true) { todo { id } } }"""
INVOICES = """query($f: InvoiceFilter) { invoices(filter: $f) { nodes { id } } }"""
INVOICE = """query($id: ID!) { invoice(id: $id) { id } }"""
NODE = """query($id: ID!) { node(id: $id) { id } }"""


def new_task(**extra: Any) -> dict[str, Any]:
    return {"i": {"name": "Call", "action": "PHONE", "dueDate": "2026-12-01T09:00:00Z", **extra}}


CASES: dict[str, Case] = {
    # Invoiced: unix seconds from the epoch; integer ids from 1.
    "create: due before year 1 in UTC": Case(CREATE, new_task(dueDate=BEFORE_YEAR_ONE), "dueDate"),
    "create: due after 9999 in UTC": Case(CREATE, new_task(dueDate=AFTER_YEAR_9999), "dueDate"),
    "create: due before the epoch": Case(
        CREATE, new_task(dueDate="1969-12-31T23:59:59Z"), "dueDate"
    ),
    "create: negative customer": Case(CREATE, new_task(customerId=-5), "customerId"),
    "create: user zero": Case(CREATE, new_task(userId=0), "userId"),
    "update: due before year 1": Case(
        UPDATE, {"i": {"id": task(1), "dueDate": BEFORE_YEAR_ONE}}, "dueDate"
    ),
    "update: due after 9999": Case(
        UPDATE, {"i": {"id": task(1), "dueDate": AFTER_YEAR_9999}}, "dueDate"
    ),
    "update: negative user": Case(UPDATE, {"i": {"id": task(1), "userId": -1}}, "userId"),
    "update: id past int64": Case(UPDATE, {"i": {"id": task(TOO_BIG)}}, "id"),
    "tasks: negative customer filter": Case(TASKS, {"f": {"customerId": -1}}, "filter.customerId"),
    "tasks: user filter zero": Case(TASKS, {"f": {"userId": 0}}, "filter.userId"),
    "task: id zero": Case(TASK, {"id": task(0)}, "id"),
    "task: id past int64": Case(TASK, {"id": task(TOO_BIG)}, "id"),
    "toggle: id zero": Case(TOGGLE, {"id": task(0)}, "id"),
    "set completed: id past int64": Case(SET, {"id": task(TOO_BIG)}, "id"),
    "projects: negative customer filter": Case(
        PROJECTS, {"f": {"customerId": "-3"}}, "filter.customerId"
    ),
    "projects: customer past int64": Case(
        PROJECTS, {"f": {"customerId": str(TOO_BIG)}}, "filter.customerId"
    ),
    "project: id zero": Case(PROJECT_Q, {"id": project(0)}, "id"),
    "project task: id past int64": Case(PROJECT_TASK, {"id": project_task(TOO_BIG)}, "id"),
    "create project task: project past int64": Case(
        CREATE_PT, {"i": {"projectId": project(TOO_BIG), "name": "Audit"}}, "id"
    ),
    "update project task: id zero": Case(UPDATE_PT, {"i": {"id": project_task(0)}}, "id"),
    "set project active: id past int64": Case(SET_ACTIVE, {"id": project(TOO_BIG)}, "id"),
    "toggle project active: id zero": Case(TOGGLE_ACTIVE, {"id": project(0)}, "id"),
    # Fakturoid: ISO 8601 moments; integer ids.
    "todos: since before year 1": Case(TODOS, {"since": BEFORE_YEAR_ONE}, "since"),
    "todos: since after 9999": Case(TODOS, {"since": AFTER_YEAR_9999}, "since"),
    "todo: id zero": Case(TODO, {"id": todo(0)}, "id"),
    "toggle todo: id past int64": Case(TOGGLE_TODO, {"id": todo(TOO_BIG)}, "id"),
    "invoices: from before 1753": Case(
        INVOICES, {"f": {"dateFrom": "1752-12-31"}}, "filter.dateFrom"
    ),
    "invoices: to in year 1": Case(INVOICES, {"f": {"dateTo": "0001-01-01"}}, "filter.dateTo"),
    "invoice: id past int32": Case(INVOICE, {"id": encode_id(READYDESK, "Invoice", 2**31)}, "id"),
    "line item: id past int32": Case(NODE, {"id": encode_id(READYDESK, "LineItem", 2**31)}, "id"),
}


@pytest.mark.parametrize("case", CASES.values(), ids=list(CASES))
async def test_values_a_vendor_cannot_hold_are_refused_at_their_field(
    gateway: Gateway, case: Case
) -> None:
    body = await gateway.execute(case.query, case.variables, accounting=True)
    assert codes(body) == ["BAD_USER_INPUT"], body
    assert body["errors"][0]["extensions"]["field"] == case.field
    assert body["extensions"]["upstreamCalls"]["total"] == 0


async def test_the_edges_of_invoiced_time_are_written_and_read_back(gateway: Gateway) -> None:
    for due in ("1970-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        created = await gateway.execute(CREATE, new_task(dueDate=due))
        assert "errors" not in created, created
    refused = await gateway.execute(CREATE, new_task(dueDate="0001-01-01T00:00:00+00:00"))
    assert codes(refused) == ["BAD_USER_INPUT"]
    # What the gateway let through, every client can still list.
    listed = await gateway.execute(
        "{ tasks(first: 1, sort: [{field: DUE_DATE, order: DESC}]) { nodes { dueDate } } }"
    )
    assert listed["data"]["tasks"]["nodes"] == [{"dueDate": "9999-12-31T23:59:59+00:00"}]
    work = await gateway.execute("{ workItems(first: 5) { missingVendors nodes { id } } }")
    assert work["data"]["workItems"]["missingVendors"] == []
