"""`workItems` by due date: Invoiced tasks without one come last, newest first.

docs/vendors/index.md promises that items with no value for the sort key come last in
either direction, by vendor and then newest first; Invoiced lists undated tasks
last ascending (oldest first by id) and first descending, so the gateway must
reorder them, the same on every page of a walk.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Gateway
from tests.test_work_walk import reference_key

PAGE = """query($after: String, $sort: WorkItemSort, $vendors: [Vendor!]) {
  workItems(first: 7, after: $after, sort: $sort, filter: {vendors: $vendors}) {
    pageInfo { hasNextPage endCursor }
    nodes { id title vendor dueAt createdAt }
  }
}"""

# Seeded tasks 700..735 are created a day apart, in id order.
UNDATED = (703, 712, 721, 730)


async def clear_due_dates(gateway: Gateway) -> None:
    """Through Invoiced's own API: the gateway's updateTask cannot clear a due date."""
    sandbox = httpx.ASGITransport(app=gateway.sandbox)
    async with httpx.AsyncClient(transport=sandbox, base_url="http://vendor") as client:
        for task_id in UNDATED:
            response = await client.patch(
                f"/invoiced/tasks/{task_id}",
                json={"due_date": None},
                auth=("sandbox_invoiced_key", ""),
            )
            assert response.status_code == 200, response.text
            assert response.json()["due_date"] is None


async def walk(gateway: Gateway, sort: dict[str, Any], vendors: list[str] | None) -> list[Any]:
    nodes: list[dict[str, Any]] = []
    after = None
    for _ in range(40):
        variables = {"after": after, "sort": sort, "vendors": vendors}
        body = await gateway.execute(PAGE, variables)
        assert "errors" not in body, body
        connection = body["data"]["workItems"]
        nodes += connection["nodes"]
        after = connection["pageInfo"]["endCursor"]
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
    raise AssertionError("the walk did not end")


@pytest.mark.parametrize("descending", [False, True], ids=["ascending", "descending"])
@pytest.mark.parametrize("vendors", [["INVOICED"], None], ids=["invoiced", "every-vendor"])
async def test_undated_invoiced_tasks_come_last_newest_first_on_every_page(
    gateway: Gateway, descending: bool, vendors: list[str] | None
) -> None:
    await clear_due_dates(gateway)
    sort = {"field": "DUE_AT", "descending": descending}
    nodes = await walk(gateway, sort, vendors)

    invoiced = [node for node in nodes if node["vendor"] == "INVOICED"]
    assert len(invoiced) == 36
    assert len({node["id"] for node in nodes}) == len(nodes)
    dated = [node for node in invoiced if node["dueAt"] is not None]
    undated = [node for node in invoiced if node["dueAt"] is None]
    assert len(undated) == len(UNDATED)
    # After every dated Invoiced task, whichever the direction...
    assert invoiced[-len(UNDATED) :] == undated
    assert invoiced[: len(dated)] == dated
    # ... and newest first among themselves.
    created = [datetime.fromisoformat(node["createdAt"]) for node in undated]
    assert created == sorted(created, reverse=True)
    # The whole walk, every vendor's undated items included, in the documented order.
    assert nodes == sorted(nodes, key=lambda node: reference_key(sort, node))
