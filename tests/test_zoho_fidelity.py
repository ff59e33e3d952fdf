"""Zoho's documented forms on the sandbox path: write responses that leave out
what was written, and an organization id that is a setting to fix."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import Gateway, codes
from tests.harness import gateway_with
from tests.test_zoho import LISTING_API, STOREFRONT, api_calls, project_id, task_id, warm_up

CREATE = """mutation($input: CreateProjectTaskInput!) { createProjectTask(input: $input) {
  projectTask { id name description rate budgetHours loggedHours } } }"""
UPDATE = """mutation($input: UpdateProjectTaskInput!) { updateProjectTask(input: $input) {
  projectTask { name description rate budgetHours } } }"""


async def test_create_shows_what_was_written_in_one_call(gateway: Gateway) -> None:
    await warm_up(gateway)
    body = await gateway.execute(
        CREATE,
        {
            "input": {
                "projectId": project_id(LISTING_API),
                "name": "Rate limiter",
                "description": "Token bucket per client.",
                "rate": "120.25",
                "budgetHours": 7.5,
            }
        },
        accounting=True,
    )
    assert body["data"]["createProjectTask"]["projectTask"] | {"id": None} == {
        "id": None,
        "name": "Rate limiter",
        "description": "Token bucket per client.",
        "rate": "120.25",
        "budgetHours": 7.5,
        "loggedHours": 0.0,
    }
    # The add response lacks them [doc]; the input fills them, no read back.
    assert [(c["method"], c["path"].count("/")) for c in api_calls(body)] == [("POST", 2)]


async def test_update_reads_back_once_what_it_neither_wrote_nor_saw(gateway: Gateway) -> None:
    await warm_up(gateway)
    tasks = gateway.sandbox_app("/zoho").state.store.projects[STOREFRONT].tasks
    tid, stored = next(iter(tasks.items()))
    body = await gateway.execute(
        UPDATE,
        {"input": {"id": task_id(STOREFRONT, tid), "name": "Discovery, phase 2"}},
        accounting=True,
    )
    task = body["data"]["updateProjectTask"]["projectTask"]
    assert task["name"] == "Discovery, phase 2"
    assert task["description"] == (stored.description or None)
    assert task["rate"] is not None and float(task["rate"]) == stored.rate
    assert [c["method"] for c in api_calls(body)] == ["PUT", "GET"]

    # Everything written: no read back at all.
    written = await gateway.execute(
        UPDATE,
        {
            "input": {
                "id": task_id(STOREFRONT, tid),
                "name": "Discovery",
                "description": "Workshops.",
                "rate": "60",
                "budgetHours": 3,
            }
        },
        accounting=True,
    )
    assert written["data"]["updateProjectTask"]["projectTask"] == {
        "name": "Discovery",
        "description": "Workshops.",
        "rate": "60.00",
        "budgetHours": 3.0,
    }
    assert [c["method"] for c in api_calls(written)] == ["PUT"]


@pytest.fixture
async def wrong_organization(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Gateway]:
    async with gateway_with(monkeypatch, ZOHO_ORGANIZATION_ID="99999999") as gateway:
        yield gateway


async def test_a_wrong_organization_id_is_a_configuration_error(
    wrong_organization: Gateway,
) -> None:
    body = await wrong_organization.execute("{ projects(first: 1) { nodes { id } } }")
    assert codes(body) == ["UPSTREAM_MISCONFIGURED"]
    (error,) = body["errors"]
    assert error["extensions"]["vendor"] == "zoho"
    assert "ZOHO_ORGANIZATION_ID" in error["message"]
    # Zoho's own wording and the id itself stay out of the answer.
    assert "99999999" not in str(body) and "authorized" not in error["message"]
