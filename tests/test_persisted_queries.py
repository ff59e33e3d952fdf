"""Automatic persisted queries (Apollo's protocol, POST and GET), the bounded store,
and the manifest of persisted documents (GATEWAY_PERSISTED_DOCUMENTS) as a safelist."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.config import Settings
from gateway.http.persisted import DocumentStore, load_manifest
from tests.conftest import Gateway, gateway_settings, running_gateway
from tests.harness import gateway_with

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

QUERY = "query FirstTask { tasks(first: 1) { nodes { invoicedId } } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()
PREFLIGHT = {"Apollo-Require-Preflight": "true"}


def persisted(sha: str = HASH, version: int = 1) -> dict[str, Any]:
    return {"persistedQuery": {"version": version, "sha256Hash": sha}}


async def post(gateway: Gateway, body: dict[str, Any]) -> httpx.Response:
    return await gateway.client.post("/graphql", json=body)


def error_code(response: httpx.Response) -> str:
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    code: str = error["extensions"]["code"]
    return code


async def test_apq_round_trip_over_post(gateway: Gateway) -> None:
    reached = gateway.record()
    unknown = await post(gateway, {"extensions": persisted()})
    # HTTP 200: Apollo's clients then send the document; a 400 would make them give up APQ.
    assert unknown.status_code == 200
    assert error_code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert reached == []

    registered = await post(gateway, {"query": QUERY, "extensions": persisted()})
    assert registered.json()["data"] == {"tasks": {"nodes": [{"invoicedId": 700}]}}

    by_hash = await post(gateway, {"extensions": persisted()})
    assert by_hash.status_code == 200
    assert by_hash.json()["data"] == {"tasks": {"nodes": [{"invoicedId": 700}]}}
    assert len(reached) == 2


async def test_apq_over_get(gateway: Gateway) -> None:
    params = {"extensions": json.dumps(persisted())}
    unknown = await gateway.client.get("/graphql", params=params, headers=PREFLIGHT)
    assert error_code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
    register = {"query": QUERY, **params}
    assert (await gateway.client.get("/graphql", params=register, headers=PREFLIGHT)).json()["data"]
    # A browser-like Accept still gets the operation, not the GraphiQL page.
    headers = {**PREFLIGHT, "Accept": "text/html,*/*"}
    by_hash = await gateway.client.get("/graphql", params=params, headers=headers)
    assert by_hash.json()["data"] == {"tasks": {"nodes": [{"invoicedId": 700}]}}


async def test_a_hash_only_get_still_needs_the_csrf_header(gateway: Gateway) -> None:
    params = {"extensions": json.dumps(persisted())}
    response = await gateway.client.get("/graphql", params=params, headers={"Accept": "text/html"})
    assert response.status_code == 400
    assert "cross-site request forgery" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    ("extensions", "query"),
    [
        (persisted(sha="0" * 64), QUERY),  # the hash is not the document's
        (persisted(version=2), QUERY),
        ({"persistedQuery": "yes"}, None),
        ({"persistedQuery": {"version": 1}}, None),
    ],
)
async def test_malformed_persisted_queries_are_bad_requests(
    gateway: Gateway, extensions: dict[str, Any], query: str | None
) -> None:
    response = await post(gateway, {"query": query, "extensions": extensions})
    assert response.status_code == 400
    assert error_code(response) == "BAD_REQUEST"


async def test_apq_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(monkeypatch, GATEWAY_PERSISTED_QUERIES="false") as gateway:
        response = await post(gateway, {"query": QUERY, "extensions": persisted()})
        assert response.status_code == 200
        assert error_code(response) == "PERSISTED_QUERY_NOT_SUPPORTED"
        assert response.json()["errors"][0]["message"] == "PersistedQueryNotSupported"
        plain = await post(gateway, {"query": QUERY})
        assert plain.json()["data"]


def test_the_store_is_bounded_least_recently_used_first_out() -> None:
    store = DocumentStore(max_documents=2)
    store.put("a", "{ a }")
    store.put("b", "{ b }")
    assert store.get("a") == "{ a }"  # a is now the most recent
    store.put("c", "{ c }")
    assert len(store) == 2
    assert store.get("b") is None
    assert store.get("a") == "{ a }" and store.get("c") == "{ c }"


def test_the_store_is_bounded_in_size_too() -> None:
    store = DocumentStore(max_documents=100, max_characters=10)
    store.put("a", "x" * 6)
    store.put("b", "y" * 6)
    assert store.get("a") is None and store.get("b") == "y" * 6


async def test_the_store_bound_applies_over_http(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(monkeypatch, GATEWAY_PERSISTED_QUERIES_MAX="1") as gateway:
        other = "query Typename { __typename }"
        other_hash = hashlib.sha256(other.encode()).hexdigest()
        await post(gateway, {"query": QUERY, "extensions": persisted()})
        await post(gateway, {"query": other, "extensions": persisted(other_hash)})
        first = await post(gateway, {"extensions": persisted()})
        assert error_code(first) == "PERSISTED_QUERY_NOT_FOUND"
        second = await post(gateway, {"extensions": persisted(other_hash)})
        assert second.json()["data"] == {"__typename": "Query"}


def apollo_manifest(tmp_path: Path) -> Path:
    path = tmp_path / "persisted-query-manifest.json"
    operations = [{"id": HASH, "name": "FirstTask", "type": "query", "body": QUERY}]
    path.write_text(
        json.dumps(
            {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        )
    )
    return path


async def test_a_manifest_runs_only_its_documents(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    manifest = str(apollo_manifest(tmp_path))
    async with gateway_with(monkeypatch, GATEWAY_PERSISTED_DOCUMENTS=manifest) as gateway:
        by_id = await post(gateway, {"extensions": persisted()})
        assert by_id.json()["data"] == {"tasks": {"nodes": [{"invoicedId": 700}]}}
        as_text = await post(gateway, {"query": QUERY})
        assert as_text.json()["data"]

        reached = gateway.record()
        freeform = await post(gateway, {"query": "{ tasks(first: 5) { totalCount } }"})
        assert freeform.status_code == 400
        assert error_code(freeform) == "PERSISTED_QUERY_NOT_ALLOWED"
        unknown = await post(gateway, {"extensions": persisted("1" * 64)})
        assert error_code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
        # Registration is off: a new document with its right hash is still refused.
        other = "query Typename { __typename }"
        other_hash = hashlib.sha256(other.encode()).hexdigest()
        registering = await post(gateway, {"query": other, "extensions": persisted(other_hash)})
        assert error_code(registering) == "PERSISTED_QUERY_NOT_FOUND"
        assert reached == []


async def test_a_relay_manifest_works_by_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "relay.json"
    path.write_text(json.dumps({"doc-1": QUERY}))
    async with gateway_with(monkeypatch, GATEWAY_PERSISTED_DOCUMENTS=str(path)) as gateway:
        response = await post(gateway, {"extensions": persisted("doc-1")})
        assert response.json()["data"] == {"tasks": {"nodes": [{"invoicedId": 700}]}}


async def test_relay_sends_a_manifest_document_by_doc_id(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # What relay-compiler's `persistConfig: {file}` writes: a JSON map of id to text.
    path = tmp_path / "persisted_queries.json"
    path.write_text(json.dumps({"3f1a": QUERY}))
    answer = {"tasks": {"nodes": [{"invoicedId": 700}]}}
    async with gateway_with(monkeypatch, GATEWAY_PERSISTED_DOCUMENTS=str(path)) as gateway:
        relay = await post(gateway, {"doc_id": "3f1a", "query": None, "variables": {}})
        assert relay.json()["data"] == answer
        # The GraphQL-over-HTTP draft's name for it, by POST and by GET.
        draft = await post(gateway, {"documentId": "3f1a"})
        assert draft.json()["data"] == answer
        by_get = await gateway.client.get(
            "/graphql", params={"doc_id": "3f1a", "variables": "{}"}, headers=PREFLIGHT
        )
        assert by_get.json()["data"] == answer

        reached = gateway.record()
        unknown = await post(gateway, {"doc_id": "nope"})
        assert error_code(unknown) == "PERSISTED_QUERY_NOT_FOUND"
        for body in (
            {"doc_id": 5},
            {"doc_id": ""},
            {"doc_id": "3f1a", "documentId": "other"},
            {"doc_id": "3f1a", "extensions": persisted("other")},
            {"doc_id": "3f1a", "query": "{ __typename }"},
        ):
            refused = await post(gateway, body)
            assert refused.status_code == 400, body
            assert error_code(refused) == "BAD_REQUEST", body
        assert reached == []


async def test_doc_id_without_a_manifest_is_refused_plainly(gateway: Gateway) -> None:
    response = await post(gateway, {"doc_id": HASH})
    assert response.status_code == 400
    assert error_code(response) == "BAD_REQUEST"
    assert "no manifest" in response.json()["errors"][0]["message"]


@pytest.mark.parametrize(
    "content",
    ["not json", "[1, 2]", '{"format": "apollo-persisted-query-manifest", "operations": [{}]}'],
)
def test_a_bad_manifest_stops_the_gateway_at_start(tmp_path: Path, content: str) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="GATEWAY_PERSISTED_DOCUMENTS"):
        load_manifest(path)


async def test_a_missing_manifest_stops_the_gateway_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    missing = str(tmp_path / "nope.json")
    settings: Settings = gateway_settings(monkeypatch, GATEWAY_PERSISTED_DOCUMENTS=missing)
    with pytest.raises(ValueError, match="cannot read"):
        async with running_gateway(settings):
            pass
