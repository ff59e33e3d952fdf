"""GraphQL over HTTP: the media types, the spec's status codes, the operationName rule,
and graphql-http's audit suite (npm, pinned in tests/http_audit) against the live demo."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import Gateway

AUDIT = Path(__file__).parent / "http_audit"
NEW = "application/graphql-response+json"
# GETs without a preflight-forcing header are refused by the CSRF rule (docs/limits.md,
# "Cross-site requests"); these optional (MAY) audits send exactly such GETs.
CSRF_REFUSED_AUDITS = {"5A70", "D6D5", "6A70"}


async def post(gateway: Gateway, body: dict[str, Any], accept: str | None) -> Any:
    headers = {"Accept": accept} if accept else {}
    return await gateway.client.post("/graphql", json=body, headers=headers)


@pytest.mark.parametrize(
    "query",
    [
        "{ tasks(first: 1) { nodes { id } } ",  # does not parse
        "{ nope }",  # does not validate
    ],
)
async def test_request_errors_are_400_without_data_in_the_new_media_type(
    gateway: Gateway, query: str
) -> None:
    response = await post(gateway, {"query": query}, NEW)
    assert response.status_code == 400
    assert response.headers["content-type"] == f"{NEW}; charset=utf-8"
    body = response.json()
    assert "data" not in body and body["errors"]


async def test_variable_coercion_failure_is_a_request_error(gateway: Gateway) -> None:
    query = "query OneTask($id: ID!) { node(id: $id) { id } }"
    response = await post(gateway, {"query": query, "variables": {"id": None}}, NEW)
    assert response.status_code == 400
    assert "data" not in response.json()


async def test_legacy_json_keeps_200_and_null_data(gateway: Gateway) -> None:
    for accept in (None, "application/json", "*/*"):
        response = await post(gateway, {"query": "{ nope }"}, accept)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["data"] is None


async def test_field_errors_keep_data_and_200_in_the_new_media_type(gateway: Gateway) -> None:
    gateway.inject(lambda request: httpx.Response(503) if "/invoiced" in request.url.path else None)
    response = await post(gateway, {"query": "{ tasks(first: 1) { nodes { id } } }"}, NEW)
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"tasks": None}
    assert body["errors"][0]["extensions"]["code"] == "UPSTREAM_UNAVAILABLE"


async def test_preference_follows_quality_values(gateway: Gateway) -> None:
    accept = f"{NEW};q=0.5, application/json"
    response = await post(gateway, {"query": "{ __typename }"}, accept)
    assert response.headers["content-type"].startswith("application/json")
    both = f"application/json;q=0.9, {NEW}"
    response = await post(gateway, {"query": "{ __typename }"}, both)
    assert response.headers["content-type"].startswith(NEW)


@pytest.mark.parametrize("accept", [NEW, "application/json"])
async def test_several_operations_need_an_operation_name(gateway: Gateway, accept: str) -> None:
    document = "query First { __typename } query Second { tasks(first: 1) { totalCount } }"
    response = await post(gateway, {"query": document}, accept)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    [error] = body["errors"]
    assert error["extensions"]["code"] == "BAD_REQUEST"
    assert "2 operations (First, Second)" in error["message"]
    assert "operationName" in error["message"]

    chosen = await post(gateway, {"query": document, "operationName": "First"}, accept)
    assert chosen.status_code == 200
    assert chosen.json()["data"] == {"__typename": "Query"}


async def test_one_operation_runs_without_a_name(gateway: Gateway) -> None:
    document = "fragment F on Query { __typename } query Only { ...F }"
    response = await post(gateway, {"query": document}, NEW)
    assert response.status_code == 200
    assert response.json()["data"] == {"__typename": "Query"}


def audit(url: str, *flags: str) -> list[dict[str, Any]]:
    if shutil.which("node") is None or not (AUDIT / "node_modules").is_dir():
        pytest.fail("node and tests/http_audit/node_modules are needed: run `make test`")
    result = subprocess.run(
        ["node", str(AUDIT / "audit.mjs"), url, *flags],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report: list[dict[str, Any]] = json.loads(result.stdout)
    return report


def test_graphql_http_audits_pass(demo_url: str) -> None:
    report = audit(f"{demo_url}/graphql")
    assert len(report) >= 60
    failed = {entry["id"]: entry for entry in report if entry["status"] != "ok"}
    # Only the GETs the CSRF rule refuses, and refused by it, not by anything else.
    assert set(failed) == CSRF_REFUSED_AUDITS, json.dumps(list(failed.values()), indent=1)
    for entry in failed.values():
        assert entry["httpStatus"] == 400
        assert "cross-site request forgery" in entry["body"]


def test_graphql_http_audits_all_pass_with_the_csrf_header(demo_url: str) -> None:
    report = audit(f"{demo_url}/graphql", "--csrf-header")
    failed = [entry for entry in report if entry["status"] != "ok"]
    assert failed == [], json.dumps(failed, indent=1)
    assert len(report) >= 60


async def test_an_operation_over_a_limit_is_a_request_error(gateway: Gateway) -> None:
    deep = (
        '{ node(id: "x") { '
        + "... on Project { tasks { nodes { project { " * 3
        + "id"
        + " } } } }" * 3
        + " } }"
    )
    response = await post(gateway, {"query": deep}, NEW)
    assert response.status_code == 400
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "OPERATION_TOO_COMPLEX"
