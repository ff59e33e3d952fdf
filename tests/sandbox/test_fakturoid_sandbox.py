"""The Fakturoid v3 sandbox speaks the vendor's wire format over real HTTP semantics."""

from __future__ import annotations

import base64
from datetime import datetime

import httpx
from starlette.applications import Starlette
from starlette.routing import Mount

from gateway.core.sandbox import Clock
from gateway.vendors.fakturoid.sandbox import (
    ACCOUNT_SLUG,
    CLIENT_ID,
    CLIENT_SECRET,
    PREFIX,
    USER_AGENT,
    create_app,
    env,
)

TOKEN_URL = "/api/v3/oauth/token"
TODOS_URL = f"/api/v3/accounts/{ACCOUNT_SLUG}/todos.json"
TODO_FIELDS = {"id", "name", "created_at", "completed_at", "text", "related_objects", "params"}
RELATED_TYPES = {
    "Invoice",
    "Subject",
    "Expense",
    "Generator",
    "RecurringGenerator",
    "ExpenseGenerator",
}


def client_for(app: Starlette, base_url: str = "http://sandbox") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url=base_url,
        headers={"User-Agent": USER_AGENT},
    )


def basic(client_id: str, client_secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()


async def grant(client: httpx.AsyncClient, url: str = TOKEN_URL) -> str:
    response = await client.post(
        url,
        json={"grant_type": "client_credentials"},
        headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
    )
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def toggle_url(todo_id: int | str) -> str:
    return f"/api/v3/accounts/{ACCOUNT_SLUG}/todos/{todo_id}/toggle_completion.json"


async def test_token_grant_returns_bearer_without_refresh_token() -> None:
    async with client_for(create_app(token_ttl=7200)) as client:
        response = await client.post(
            TOKEN_URL,
            json={"grant_type": "client_credentials"},
            headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        )
        form = await client.post(
            TOKEN_URL,
            data={"grant_type": "client_credentials"},
            headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        )
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 7200
    assert form.status_code == 200
    assert form.json()["access_token"] != body["access_token"]


async def test_token_rejects_bad_secret_and_grant() -> None:
    async with client_for(create_app()) as client:
        bad_secret = await client.post(
            TOKEN_URL,
            json={"grant_type": "client_credentials"},
            headers={"Authorization": basic(CLIENT_ID, "wrong")},
        )
        bad_grant = await client.post(
            TOKEN_URL,
            json={"grant_type": "password"},
            headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        )
    assert bad_secret.status_code == 401
    assert bad_secret.json()["error"] == "invalid_client"
    assert bad_secret.json()["error_description"]
    assert bad_grant.status_code == 400
    assert bad_grant.json()["error"] == "unsupported_grant_type"


async def test_missing_user_agent_is_refused_before_auth() -> None:
    expected = {
        "error": "invalid_request",
        "error_description": 'Required header "User-Agent" is missing',
    }
    async with client_for(create_app()) as client:
        del client.headers["User-Agent"]
        api = await client.get(TODOS_URL)
        token = await client.post(
            TOKEN_URL,
            json={"grant_type": "client_credentials"},
            headers={"Authorization": basic(CLIENT_ID, CLIENT_SECRET)},
        )
    assert (api.status_code, api.json()) == (400, expected)
    assert (token.status_code, token.json()) == (400, expected)


async def test_token_really_expires() -> None:
    clock = Clock()
    async with client_for(create_app(clock=clock, token_ttl=60)) as client:
        token = await grant(client)
        fresh = await client.get(TODOS_URL, headers=bearer(token))
        clock.advance(61)
        expired = await client.get(TODOS_URL, headers=bearer(token))
        missing = await client.get(TODOS_URL)
    assert fresh.status_code == 200
    assert expired.status_code == 401
    assert expired.json() == {
        "error": "invalid_token",
        "error_description": "The access token expired",
    }
    assert expired.headers["WWW-Authenticate"].startswith("Bearer")
    assert missing.status_code == 401
    assert set(missing.json()) == {"error", "error_description"}


async def test_pages_of_forty_end_with_short_then_empty_page() -> None:
    async with client_for(create_app()) as client:
        token = await grant(client)
        pages = [
            await client.get(TODOS_URL, params={"page": n}, headers=bearer(token))
            for n in (1, 2, 3, 4)
        ]
        default = await client.get(TODOS_URL, headers=bearer(token))
    assert all(page.status_code == 200 for page in pages)
    assert all("link" not in page.headers for page in pages)
    bodies = [page.json() for page in pages]
    assert [len(body) for body in bodies] == [40, 40, 20, 0]
    assert default.json() == bodies[0]
    todos = [todo for body in bodies for todo in body]
    assert len({todo["id"] for todo in todos}) == 100
    created = [datetime.fromisoformat(todo["created_at"]) for todo in todos]
    assert created == sorted(created, reverse=True)


async def test_seeded_todos_have_the_documented_shape() -> None:
    async with client_for(create_app()) as client:
        token = await grant(client)
        todos = (await client.get(TODOS_URL, headers=bearer(token))).json()
    assert any(todo["completed_at"] is None for todo in todos)
    assert any(todo["completed_at"] is not None for todo in todos)
    for todo in todos:
        assert set(todo) == TODO_FIELDS
        assert isinstance(todo["id"], int)
        assert datetime.fromisoformat(todo["created_at"]).utcoffset() is not None
        assert todo["created_at"][-6] in "+-"
        assert all(set(obj) == {"type", "id"} for obj in todo["related_objects"])
        assert all(obj["type"] in RELATED_TYPES for obj in todo["related_objects"])
        assert all(isinstance(value, str) for value in todo["params"].values())


async def test_since_keeps_todos_created_after_it() -> None:
    async with client_for(create_app()) as client:
        token = await grant(client)
        newest = (await client.get(TODOS_URL, headers=bearer(token))).json()
        cutoff = newest[9]["created_at"]
        after = await client.get(TODOS_URL, params={"since": cutoff}, headers=bearer(token))
        # A raw "+" decodes to a space in a query string; curl users type it that way.
        raw_plus = await client.get(f"{TODOS_URL}?since={cutoff}", headers=bearer(token))
        invalid = await client.get(TODOS_URL, params={"since": "yesterday"}, headers=bearer(token))
    assert after.status_code == 200
    assert [todo["id"] for todo in after.json()] == [todo["id"] for todo in newest[:9]]
    assert raw_plus.json() == after.json()
    assert invalid.status_code == 400
    assert invalid.json()["error"] == "invalid_request"
    assert set(invalid.json()) == {"error", "error_description"}


async def test_toggle_twice_restores_state() -> None:
    clock = Clock()
    app = create_app(clock=clock)
    async with client_for(app) as client:
        token = await grant(client)
        before = (await client.get(TODOS_URL, headers=bearer(token))).json()
        todo = next(todo for todo in before if todo["completed_at"] is None)
        first = await client.post(toggle_url(todo["id"]), headers=bearer(token))
        second = await client.post(toggle_url(todo["id"]), headers=bearer(token))
        after = (await client.get(TODOS_URL, headers=bearer(token))).json()
    assert first.status_code == 200
    completed_at = datetime.fromisoformat(first.json()["completed_at"])
    assert abs(completed_at.timestamp() - clock.now()) < 5
    assert {**first.json(), "completed_at": None} == todo
    assert second.status_code == 200
    assert second.json() == todo
    assert after == before


async def test_unknown_todo_account_and_route_are_json_errors() -> None:
    async with client_for(create_app()) as client:
        token = await grant(client)
        unknown = await client.post(toggle_url(999999), headers=bearer(token))
        not_numeric = await client.post(toggle_url("abc"), headers=bearer(token))
        other_account = await client.get(
            "/api/v3/accounts/someone-else/todos.json", headers=bearer(token)
        )
        unrouted = await client.get("/api/v3/nowhere.json", headers=bearer(token))
        wrong_method = await client.delete(TODOS_URL, headers=bearer(token))
    for response in (unknown, not_numeric, other_account, unrouted):
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert set(response.json()) == {"error", "error_description"}
    assert wrong_method.status_code == 405
    assert "GET" in wrong_method.headers["Allow"]
    assert set(wrong_method.json()) == {"error", "error_description"}


async def test_rate_limit_headers_and_429() -> None:
    clock = Clock()
    async with client_for(create_app(clock=clock, rate_limit=3, rate_window=60)) as client:
        token = await grant(client)  # the token endpoint has its own bucket
        responses = [await client.get(TODOS_URL, headers=bearer(token)) for _ in range(4)]
        clock.advance(60)
        recovered = await client.get(TODOS_URL, headers=bearer(token))
    for response in responses:
        assert response.headers["X-RateLimit-Policy"] == "default;q=3;w=60"
    assert [r.headers["X-RateLimit"] for r in responses] == [
        "default;r=2;t=60",
        "default;r=1;t=60",
        "default;r=0;t=60",
        "default;r=0;t=60",
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[3].headers["Retry-After"] == "60"
    assert set(responses[3].json()) == {"error", "error_description"}
    assert recovered.status_code == 200
    assert recovered.headers["X-RateLimit"] == "default;r=2;t=60"


async def test_blocked_account_and_read_only_mode() -> None:
    app = create_app()
    async with client_for(app) as client:
        token = await grant(client)
        app.state.store.read_only = True
        read = await client.get(TODOS_URL, headers=bearer(token))
        write = await client.post(toggle_url(read.json()[0]["id"]), headers=bearer(token))
        app.state.store.blocked = True
        blocked = await client.get(TODOS_URL, headers=bearer(token))
    assert read.status_code == 200
    assert write.status_code == 503
    assert blocked.status_code == 402
    assert set(write.json()) == set(blocked.json()) == {"error", "error_description"}


async def test_apps_do_not_share_state() -> None:
    first, second = create_app(), create_app()
    async with client_for(first) as one, client_for(second) as two:
        token = await grant(one)
        original = (await one.get(TODOS_URL, headers=bearer(token))).json()
        await one.post(toggle_url(original[0]["id"]), headers=bearer(token))
        foreign = await two.get(TODOS_URL, headers=bearer(token))
        fresh = (await two.get(TODOS_URL, headers=bearer(await grant(two)))).json()
    assert foreign.status_code == 401
    assert fresh == original


async def test_mounted_at_prefix_matches_env() -> None:
    settings = env("http://sandbox/")
    assert settings["FAKTUROID_API_URL"] == "http://sandbox/fakturoid/api/v3"
    assert settings["FAKTUROID_USER_AGENT"] == USER_AGENT
    server = Starlette(routes=[Mount(PREFIX, app=create_app())])
    api = settings["FAKTUROID_API_URL"]
    async with client_for(server, base_url="http://sandbox") as client:
        response = await client.post(
            f"{api}/oauth/token",
            json={"grant_type": "client_credentials"},
            headers={
                "Authorization": basic(
                    settings["FAKTUROID_CLIENT_ID"], settings["FAKTUROID_CLIENT_SECRET"]
                )
            },
        )
        token = response.json()["access_token"]
        slug = settings["FAKTUROID_ACCOUNT_SLUG"]
        todos = await client.get(f"{api}/accounts/{slug}/todos.json", headers=bearer(token))
        toggled = await client.post(
            f"{api}/accounts/{slug}/todos/{todos.json()[0]['id']}/toggle_completion.json",
            headers=bearer(token),
        )
    assert todos.status_code == 200
    assert len(todos.json()) == 40
    assert todos.headers["X-RateLimit"].startswith("default;r=")
    assert toggled.status_code == 200
