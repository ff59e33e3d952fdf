"""Client authentication with API keys: 401s, and scopes checked at each field's path
while the rest of the document still answers."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from gateway import cli
from gateway.auth.api_keys import ApiKeys, hash_key
from gateway.config import Settings
from tests.conftest import Gateway, codes, gateway_settings, running_gateway

# name -> (the key a client sends, its scopes)
KEYS = {
    "everything": ("tgw_everything_0001", "*:read,*:write"),
    "invoiced-reader": ("tgw_invoiced_reader_0001", "invoiced:read"),
    "invoiced-writer": ("tgw_invoiced_writer_0001", "invoiced:write"),
}


def api_keys_setting() -> str:
    return ";".join(f"{name}:{hash_key(key)}:{scopes}" for name, (key, scopes) in KEYS.items())


class Recorder:
    """Counts the requests that reach any vendor sandbox."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> None:
        self.requests.append(request)


@pytest.fixture
async def guarded(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> AsyncIterator[Gateway]:
    federation = "true" if request.node.get_closest_marker("federation") else "false"
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_AUTH="true",
        GATEWAY_API_KEYS=api_keys_setting(),
        GATEWAY_FEDERATION=federation,
    )
    async with running_gateway(settings) as running:
        yield running


async def post(
    gateway: Gateway,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = dict(headers or {})
    if key is not None:
        sent["X-API-Key"] = KEYS[key][0]
    return await gateway.client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=sent
    )


async def test_no_credentials_is_401_with_a_challenge_and_no_upstream_call(
    guarded: Gateway,
) -> None:
    recorder = Recorder()
    guarded.inject(recorder)
    response = await post(guarded, "{ tasks(first: 1) { nodes { id } } }")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="task-gateway"'
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert recorder.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-API-Key": "tgw_not_a_key"},
        {"Authorization": "Bearer tgw_not_a_key"},
        {"Authorization": "Bearer not.a.jwt"},
    ],
)
async def test_a_wrong_key_or_token_is_401_invalid_token(
    guarded: Gateway, headers: dict[str, str]
) -> None:
    response = await post(guarded, "{ tasks(first: 1) { nodes { id } } }", headers=headers)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    # The key is never echoed back.
    assert "tgw_not_a_key" not in response.text


async def test_a_key_is_accepted_as_a_bearer_credential_too(guarded: Gateway) -> None:
    key = KEYS["invoiced-reader"][0]
    response = await post(
        guarded,
        "{ tasks(first: 1) { nodes { id } } }",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200
    assert "errors" not in response.json()


async def test_a_field_outside_the_scopes_is_forbidden_at_its_path_and_the_rest_answers(
    guarded: Gateway,
) -> None:
    recorder = Recorder()
    guarded.inject(recorder)
    response = await post(
        guarded,
        "{ tasks(first: 2) { nodes { id } } projects(first: 1) { nodes { id } } }",
        key="invoiced-reader",
    )
    body = response.json()
    assert response.status_code == 200
    assert len(body["data"]["tasks"]["nodes"]) == 2
    assert body["data"]["projects"] is None
    [error] = body["errors"]
    assert error["path"] == ["projects"]
    assert error["extensions"] == {"code": "FORBIDDEN", "vendor": "zoho", "scope": "zoho:read"}
    # Zoho was never asked anything (not even for a token).
    assert {request.url.path.split("/")[1] for request in recorder.requests} == {"invoiced"}


async def test_writing_needs_the_write_scope_and_reading_the_read_scope(
    guarded: Gateway,
) -> None:
    recorder = Recorder()
    guarded.inject(recorder)
    create = """mutation { createTask(input: {name: "Call", action: PHONE, customerId: 481594,
        dueDate: "2026-12-01T09:00:00Z"}) {
        task { id } } }"""
    refused = (await post(guarded, create, key="invoiced-reader")).json()
    assert refused["data"] == {"createTask": None}
    assert refused["errors"][0]["path"] == ["createTask"]
    assert codes(refused) == ["FORBIDDEN"]
    assert refused["errors"][0]["extensions"]["scope"] == "invoiced:write"
    assert recorder.requests == []

    allowed = (await post(guarded, create, key="invoiced-writer")).json()
    assert "errors" not in allowed and allowed["data"]["createTask"]["task"]["id"]
    # Write does not include read.
    listing = (await post(guarded, "{ tasks { totalCount } }", key="invoiced-writer")).json()
    assert codes(listing) == ["FORBIDDEN"]


async def some_ids(gateway: Gateway) -> dict[str, str]:
    query = """{ tasks(first: 1) { nodes { id } } projects(first: 1) { nodes { id } }
                 todos(first: 1) { nodes { id } } }"""
    data = (await post(gateway, query, key="everything")).json()["data"]
    return {name: data[field]["nodes"][0]["id"] for name, field in
            (("Task", "tasks"), ("Project", "projects"), ("Todo", "todos"))}  # fmt: skip


async def test_node_and_nodes_check_the_vendor_of_each_id(guarded: Gateway) -> None:
    ids = await some_ids(guarded)
    body = (
        await post(
            guarded,
            """query($ids: [ID!]!, $one: ID!) {
                 nodes(ids: $ids) { id }
                 node(id: $one) { id }
               }""",
            {"ids": [ids["Task"], ids["Project"], ids["Todo"]], "one": ids["Todo"]},
            key="invoiced-reader",
        )
    ).json()
    assert body["data"]["nodes"] == [{"id": ids["Task"]}, None, None]
    assert body["data"]["node"] is None
    forbidden = {tuple(e["path"]): e["extensions"]["vendor"] for e in body["errors"]}
    assert forbidden == {("nodes", 1): "zoho", ("nodes", 2): "fakturoid", ("node",): "fakturoid"}
    assert set(codes(body)) == {"FORBIDDEN"}


@pytest.mark.federation
async def test_entities_check_the_vendor_of_each_representation(guarded: Gateway) -> None:
    ids = await some_ids(guarded)
    body = (
        await post(
            guarded,
            """query($r: [_Any!]!) { _entities(representations: $r) { ... on Node { id } } }""",
            {
                "r": [
                    {"__typename": "Project", "id": ids["Project"]},
                    {"__typename": "Task", "id": ids["Task"]},
                ]
            },
            key="invoiced-reader",
        )
    ).json()
    assert body["data"]["_entities"] == [None, {"id": ids["Task"]}]
    [error] = body["errors"]
    assert error["path"] == ["_entities", 0]
    assert error["extensions"]["code"] == "FORBIDDEN"


async def test_work_items_leave_out_the_vendors_a_client_cannot_read_and_say_so(
    guarded: Gateway,
) -> None:
    recorder = Recorder()
    guarded.inject(recorder)
    body = (
        await post(
            guarded,
            "{ workItems(first: 30, sort: {field: TITLE}) { missingVendors nodes { vendor } } }",
            key="invoiced-reader",
        )
    ).json()
    work = body["data"]["workItems"]
    assert work["nodes"] and {n["vendor"] for n in work["nodes"]} == {"INVOICED"}
    assert set(work["missingVendors"]) == {"ZOHO", "FAKTUROID"}
    assert {(tuple(e["path"]), e["extensions"]["code"]) for e in body["errors"]} == {
        (("workItems",), "FORBIDDEN")
    }
    assert {e["extensions"]["vendor"] for e in body["errors"]} == {"zoho", "fakturoid"}
    assert {request.url.path.split("/")[1] for request in recorder.requests} == {"invoiced"}


async def test_introspection_and_graphiql_can_be_switched_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, scopes = KEYS["everything"]
    entry = f"ops:{hash_key(key)}:{scopes}"
    page = {"Accept": "text/html"}
    introspect = {"query": "{ __schema { queryType { name } } }"}
    on = gateway_settings(monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=entry)
    async with running_gateway(on) as gateway:
        # The page holds no data: it is served without credentials; its queries are not.
        assert (await gateway.client.get("/graphql", headers=page)).status_code == 200
        response = await gateway.client.post(
            "/graphql", json=introspect, headers={"X-API-Key": key}
        )
        assert response.json()["data"]["__schema"]["queryType"]["name"] == "Query"

    off = gateway_settings(
        monkeypatch,
        GATEWAY_AUTH="true",
        GATEWAY_API_KEYS=entry,
        GATEWAY_INTROSPECTION="false",
        GATEWAY_GRAPHIQL="false",
    )
    async with running_gateway(off) as gateway:
        assert (await gateway.client.get("/graphql", headers=page)).status_code == 401
        with_key = await gateway.client.get("/graphql", headers={**page, "X-API-Key": key})
        assert "<html" not in with_key.text.lower()
        response = await gateway.client.post(
            "/graphql", json=introspect, headers={"X-API-Key": key}
        )
        assert set(codes(response.json())) == {"GRAPHQL_VALIDATION_FAILED"}
        assert "introspection" in response.json()["errors"][0]["message"].lower()
        ordinary = await gateway.client.post(
            "/graphql", json={"query": "{ tasks(first: 1) { nodes { __typename } } }"},
            headers={"X-API-Key": key},
        )  # fmt: skip
        assert "errors" not in ordinary.json()


def test_hash_key_prints_an_entry_that_authenticates(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("tgw_from_stdin\n"))
    cli.main(["hash-key", "--name", "ci", "--scopes", "invoiced:read,zoho:write"])
    entry = capsys.readouterr().out.strip()
    assert "tgw_from_stdin" not in entry
    principal = ApiKeys.parse(entry, ["invoiced", "zoho"]).verify("tgw_from_stdin")
    assert principal is not None
    assert principal.scopes == {"invoiced:read", "zoho:write"}


@pytest.mark.parametrize(
    ("setting", "complaint"),
    [
        (f"ci:{'0' * 64}:invoiced:admin", "is not a scope"),
        (f"ci:{'0' * 64}:acme:read", "is not a scope"),
        ("ci:not-a-digest:invoiced:read", "SHA-256"),
        ("ci", "name:sha256hex"),
        ("/nonexistent/keys.json", "cannot be read"),
        ("", "at least 32 bytes"),  # with a short GATEWAY_JWT_SECRET
    ],
)
def test_malformed_credentials_settings_stop_serve_with_a_clear_message(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    setting: str,
    complaint: str,
) -> None:
    gateway_settings(
        monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=setting, GATEWAY_JWT_SECRET="short"
    )
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["serve"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    variable = "GATEWAY_API_KEYS" if setting else "GATEWAY_JWT_SECRET"
    assert f"task-gateway: configuration error: {variable}: " in err
    assert complaint in err


def test_serve_refuses_to_start_with_auth_on_and_no_credentials(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in ("GATEWAY_AUTH", "GATEWAY_API_KEYS", "GATEWAY_JWT_SECRET", "GATEWAY_JWKS_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(SystemExit):
        cli._check_client_auth(Settings())
    assert "no client can authenticate" in capsys.readouterr().err


async def test_keys_can_come_from_a_json_file(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    path = tmp_path / "keys.json"
    path.write_text(
        f'[{{"name": "batch", "sha256": "{hash_key("tgw_file_key")}", "scopes": ["*:read"]}}]'
    )
    settings = gateway_settings(monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=str(path))
    async with running_gateway(settings) as gateway:
        response = await gateway.client.post(
            "/graphql",
            json={"query": "{ tasks(first: 1) { nodes { id } } }"},
            headers={"X-API-Key": "tgw_file_key"},
        )
    assert response.status_code == 200 and "errors" not in response.json()
