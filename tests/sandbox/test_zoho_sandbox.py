"""The Zoho Invoice sandbox speaks Zoho's wire format: OAuth, envelopes, paging, tasks."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from gateway.core.sandbox import Clock
from gateway.vendors.zoho.sandbox import (
    CLIENT_ID,
    CLIENT_SECRET,
    ORGANIZATION_ID,
    PREFIX,
    REFRESH_TOKEN,
    create_app,
    env,
)

API = "/invoice/v3"
TOKEN_URL = "/accounts/oauth/v2/token"
PROJECT_ID = "903000000072369"  # first seeded project, four tasks
GRANT = {
    "refresh_token": REFRESH_TOKEN,
    "client_id": CLIENT_ID,
    "client_secret": CLIENT_SECRET,
    "grant_type": "refresh_token",
}


def client_for(app: Starlette) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sandbox")


@pytest.fixture
def app() -> Starlette:
    return create_app()


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app) as c:
        yield c


async def grant(client: httpx.AsyncClient) -> str:
    response = await client.post(TOKEN_URL, data=GRANT)
    assert response.status_code == 200
    access_token: str = response.json()["access_token"]
    return access_token


@pytest.fixture
async def headers(client: httpx.AsyncClient) -> dict[str, str]:
    return {
        "Authorization": f"Zoho-oauthtoken {await grant(client)}",
        "X-com-zoho-invoice-organizationid": ORGANIZATION_ID,
    }


async def project_ids(
    client: httpx.AsyncClient, headers: dict[str, str], **params: Any
) -> list[str]:
    response = await client.get(f"{API}/projects", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return [p["project_id"] for p in response.json()["projects"]]


def test_env_points_at_the_mounted_sandbox() -> None:
    values = env("http://127.0.0.1:8001/")
    assert values["ZOHO_API_URL"] == "http://127.0.0.1:8001/zoho/invoice/v3"
    assert values["ZOHO_ACCOUNTS_URL"] == "http://127.0.0.1:8001/zoho/accounts"
    assert values["ZOHO_ORGANIZATION_ID"] == ORGANIZATION_ID == "10234695"
    assert PREFIX == "/zoho"


async def test_token_grant(client: httpx.AsyncClient, app: Starlette) -> None:
    response = await client.post(TOKEN_URL, data=GRANT)
    body = response.json()
    assert response.status_code == 200
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 3600
    assert body["api_domain"] == "http://sandbox"
    assert body["access_token"] in app.state.store.tokens
    # The query-string form from Zoho's own examples works too, and tokens differ.
    again = await client.post(TOKEN_URL, params=GRANT)
    assert again.json()["access_token"] != body["access_token"]


@pytest.mark.parametrize(
    ("field", "value", "error"),
    [
        ("client_secret", "wrong", "invalid_client"),
        ("client_id", "1000.NOPE", "invalid_client"),
        ("refresh_token", "1000.revoked", "invalid_code"),
        ("grant_type", "authorization_code", "unsupported_grant_type"),
    ],
)
async def test_token_refusals_answer_200_with_error(
    client: httpx.AsyncClient, field: str, value: str, error: str
) -> None:
    response = await client.post(TOKEN_URL, data={**GRANT, field: value})
    assert response.status_code == 200
    assert response.json() == {"error": error}


async def test_missing_auth_header_is_code_14(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/projects", headers={"X-com-zoho-invoice-organizationid": ORGANIZATION_ID}
    )
    assert response.status_code == 401
    assert response.json()["code"] == 14
    assert "X-Rate-Limit-Limit" in response.headers


async def test_unknown_token_is_code_57(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{API}/projects",
        headers={
            "Authorization": "Zoho-oauthtoken 1000.abc.def",
            "X-com-zoho-invoice-organizationid": ORGANIZATION_ID,
        },
    )
    assert response.status_code == 401
    assert response.json() == {
        "code": 57,
        "message": "You are not authorized to perform this operation",
    }


async def test_token_expires_with_the_clock() -> None:
    clock = Clock()
    app = create_app(clock=clock, token_ttl=60)
    async with client_for(app) as client:
        headers = {
            "Authorization": f"Zoho-oauthtoken {await grant(client)}",
            "X-com-zoho-invoice-organizationid": ORGANIZATION_ID,
        }
        assert (await client.get(f"{API}/projects", headers=headers)).status_code == 200
        assert app.state.clock is clock
        clock.advance(61)
        response = await client.get(f"{API}/projects", headers=headers)
        assert response.status_code == 401
        assert response.json()["code"] == 57


async def test_organization_header_is_checked(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    auth_only = {"Authorization": headers["Authorization"]}
    missing = await client.get(f"{API}/projects", headers=auth_only)
    assert missing.status_code == 400
    assert missing.json()["code"] != 0
    wrong = await client.get(
        f"{API}/projects", headers={**auth_only, "X-com-zoho-invoice-organizationid": "999"}
    )
    assert wrong.status_code == 403
    assert wrong.json()["code"] != 0
    # The older query parameter still selects the organization.
    legacy = await client.get(
        f"{API}/projects", headers=auth_only, params={"organization_id": ORGANIZATION_ID}
    )
    assert legacy.status_code == 200


async def test_project_list_envelope_and_paging(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    response = await client.get(f"{API}/projects", headers=headers)
    body = response.json()
    assert body["code"] == 0 and body["message"] == "success"
    assert len(body["projects"]) == 8
    assert body["page_context"]["has_more_page"] is False
    assert body["page_context"]["per_page"] == 200
    first = body["projects"][0]
    assert first["rate"].count(".") == 1 and isinstance(first["rate"], str)
    assert first["created_time"][-5:] == "+0530"
    assert first["total_hours"][-3] == ":"

    pages = []
    for page in (1, 2, 3):
        r = await client.get(
            f"{API}/projects", headers=headers, params={"page": page, "per_page": 3}
        )
        context = r.json()["page_context"]
        assert context["page"] == page and context["per_page"] == 3
        assert context["has_more_page"] is (page < 3)
        pages += [p["project_id"] for p in r.json()["projects"]]
    assert pages == [p["project_id"] for p in body["projects"]]

    bad = await client.get(f"{API}/projects", headers=headers, params={"page": "zero"})
    assert bad.status_code == 400 and bad.json()["code"] != 0


async def test_project_filters_and_sort(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    active = await project_ids(client, headers, filter_by="Status.Active")
    inactive = await project_ids(client, headers, filter_by="Status.Inactive")
    assert len(active) == 6 and len(inactive) == 2
    assert set(active) | set(inactive) == set(await project_ids(client, headers))

    response = await client.get(
        f"{API}/projects",
        headers=headers,
        params={"customer_id": "903000000000141", "sort_column": "rate", "sort_order": "D"},
    )
    projects = response.json()["projects"]
    assert {p["customer_name"] for p in projects} == {"Oakridge Property Group"}
    assert [float(p["rate"]) for p in projects] == [105.0, 90.0]
    assert response.json()["page_context"]["applied_filter"] == "Status.All"

    names = await client.get(
        f"{API}/projects", headers=headers, params={"sort_column": "project_name"}
    )
    listed = [p["project_name"] for p in names.json()["projects"]]
    assert listed == sorted(listed, key=str.casefold)
    newest = await project_ids(client, headers, sort_column="created_time", sort_order="D")
    assert newest[0] == "903000000072467"

    bad = await client.get(f"{API}/projects", headers=headers, params={"filter_by": "Open"})
    assert bad.status_code == 400


async def test_project_detail_and_status(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    project = (await client.get(f"{API}/projects/{PROJECT_ID}", headers=headers)).json()["project"]
    assert project["project_name"] == "Storefront Website Redesign"
    assert len(project["tasks"]) == 4 and project["users"]
    assert project["total_hours"] == "51:50"

    marked = await client.post(f"{API}/projects/{PROJECT_ID}/inactive", headers=headers)
    assert marked.json()["code"] == 0
    assert PROJECT_ID in await project_ids(client, headers, filter_by="Status.Inactive")
    await client.post(f"{API}/projects/{PROJECT_ID}/active", headers=headers)
    assert PROJECT_ID in await project_ids(client, headers, filter_by="Status.Active")

    missing = await client.get(f"{API}/projects/1234", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["code"] == 1002


async def test_task_crud(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    tasks_url = f"{API}/projects/{PROJECT_ID}/tasks"
    created = await client.post(
        tasks_url, headers=headers, json={"task_name": "Painting", "rate": 3, "budget_hours": ""}
    )
    assert created.status_code == 201
    body = created.json()
    assert body["code"] == 0 and body["message"] == "The task has been added."
    task = body["task"]
    assert task["task_name"] == "Painting" and task["project_id"] == PROJECT_ID
    assert task["log_time"] == "00:00" and task["task_id"].isdigit()
    task_url = f"{tasks_url}/{task['task_id']}"

    listed = (await client.get(tasks_url, headers=headers)).json()
    assert [t["task_id"] for t in listed["tasks"]][-1] == task["task_id"]
    assert listed["page_context"]["has_more_page"] is False

    updated = await client.put(
        task_url, headers=headers, data={"JSONString": '{"task_name": "Varnish", "rate": 4}'}
    )
    assert updated.json()["message"] == "The task information has been updated."
    fetched = (await client.get(task_url, headers=headers)).json()["task"]
    assert (fetched["task_name"], fetched["rate"]) == ("Varnish", 4)

    deleted = await client.delete(task_url, headers=headers)
    assert deleted.json() == {"code": 0, "message": "The task has been deleted successfully."}
    gone = await client.get(task_url, headers=headers)
    assert gone.status_code == 404 and gone.json()["code"] == 1002
    assert (await client.delete(task_url, headers=headers)).json()["code"] == 1002


async def test_task_validation(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    tasks_url = f"{API}/projects/{PROJECT_ID}/tasks"
    ok = await client.post(tasks_url, headers=headers, json={"task_name": "x" * 100})
    assert ok.status_code == 201
    for body in (
        {"task_name": "x" * 101},
        {"description": "no name"},
        {"task_name": "a", "rate": "lots"},
    ):
        response = await client.post(tasks_url, headers=headers, json=body)
        assert response.status_code == 400, body
        assert response.json()["code"] != 0 and response.json()["message"]
    too_long = await client.post(tasks_url, headers=headers, json={"task_name": "x" * 101})
    assert "100" in too_long.json()["message"]
    garbled = await client.post(tasks_url, headers=headers, content=b"{not json")
    assert garbled.status_code == 400
    nowhere = await client.post(
        f"{API}/projects/42/tasks", headers=headers, json={"task_name": "a"}
    )
    assert nowhere.status_code == 404 and nowhere.json()["code"] == 1002


async def test_task_paging(client: httpx.AsyncClient, headers: dict[str, str]) -> None:
    url = f"{API}/projects/903000000072453/tasks"  # six seeded tasks
    first = (await client.get(url, headers=headers, params={"per_page": 4})).json()
    second = (await client.get(url, headers=headers, params={"per_page": 4, "page": 2})).json()
    assert len(first["tasks"]) == 4 and first["page_context"]["has_more_page"] is True
    assert len(second["tasks"]) == 2 and second["page_context"]["has_more_page"] is False


async def test_rate_limit_headers_and_429(
    client: httpx.AsyncClient, headers: dict[str, str], app: Starlette
) -> None:
    app.state.store.rate_limit = 3
    seen = []
    for _ in range(3):
        response = await client.get(f"{API}/projects/{PROJECT_ID}/tasks", headers=headers)
        assert response.status_code == 200
        assert response.headers["X-Rate-Limit-Limit"] == "3"
        assert 1 <= int(response.headers["X-Rate-Limit-Reset"]) <= 60
        seen.append(response.headers["X-Rate-Limit-Remaining"])
    assert seen == ["2", "1", "0"]
    limited = await client.get(f"{API}/projects", headers=headers)
    assert limited.status_code == 429
    assert limited.json()["code"] == 45
    assert limited.headers["X-Rate-Limit-Remaining"] == "0"
    app.state.clock.advance(60)
    assert (await client.get(f"{API}/projects", headers=headers)).status_code == 200


async def test_unknown_url_and_method_use_the_envelope(
    client: httpx.AsyncClient, headers: dict[str, str]
) -> None:
    unknown = await client.get(f"{API}/timesheets", headers=headers)
    assert unknown.status_code == 404 and unknown.json()["code"] != 0
    wrong = await client.patch(f"{API}/projects/{PROJECT_ID}", headers=headers)
    assert wrong.status_code == 405 and wrong.json()["code"] != 0


async def test_apps_do_not_share_data(headers: dict[str, str], client: httpx.AsyncClient) -> None:
    await client.delete(f"{API}/projects/{PROJECT_ID}/tasks/903000000073001", headers=headers)
    fresh = create_app()
    assert "903000000073001" in fresh.state.store.projects[PROJECT_ID].tasks


async def test_mounted_under_prefix() -> None:
    from starlette.routing import Mount

    outer = Starlette(routes=[Mount(PREFIX, app=create_app())])
    async with client_for(outer) as client:
        body = (await client.post(f"{PREFIX}{TOKEN_URL}", data=GRANT)).json()
        assert body["api_domain"] == "http://sandbox/zoho"
        response = await client.get(
            f"{body['api_domain']}{API}/projects",
            headers={
                "Authorization": f"Zoho-oauthtoken {body['access_token']}",
                "X-com-zoho-invoice-organizationid": ORGANIZATION_ID,
            },
        )
        assert response.status_code == 200 and len(response.json()["projects"]) == 8
