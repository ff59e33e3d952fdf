"""Prometheus /metrics: operations by name and outcome, upstream calls by vendor and
status, token grants, breaker states; one registry per app."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.observability import metrics as metrics_module
from tests.conftest import Gateway, codes, running_gateway
from tests.harness import gateway_with

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(gateway: Gateway) -> Samples:
    response = await gateway.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum over every series of ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


async def post(gateway: Gateway, body: dict[str, Any]) -> dict[str, Any]:
    response = await gateway.client.post(
        "/graphql", json=body, headers={"X-Upstream-Accounting": "1"}
    )
    result: dict[str, Any] = response.json()
    return result


async def test_operations_are_counted_by_name_and_outcome(gateway: Gateway) -> None:
    ok = await post(gateway, {"query": "query OpenTasks { tasks(first: 2) { nodes { id } } }"})
    assert "errors" not in ok
    await post(gateway, {"query": "query OpenTasks { tasks(first: 2) { nodes { id } } }"})
    bad = await post(gateway, {"query": "query Broken { tasks(first: 2) { nope } }"})
    assert codes(bad) == ["GRAPHQL_VALIDATION_FAILED"]
    await post(gateway, {"query": "{ __typename }"})
    samples = await scrape(gateway)
    assert value(samples, "gateway_operations_total", operation="OpenTasks", outcome="ok") == 2
    assert value(samples, "gateway_operations_total", operation="Broken", outcome="error") == 1
    assert value(samples, "gateway_operations_total", operation="anonymous", outcome="ok") == 1
    assert value(samples, "gateway_operation_errors_total", code="GRAPHQL_VALIDATION_FAILED") == 1
    count = value(samples, "gateway_operation_duration_seconds_count", operation="OpenTasks")
    assert count == 2


async def test_a_refused_request_is_counted_as_rejected(gateway: Gateway) -> None:
    response = await gateway.client.post(
        "/graphql", content=b"[1]", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    samples = await scrape(gateway)
    assert value(samples, "gateway_operations_total", operation="anonymous", outcome="rejected")
    assert value(samples, "gateway_operation_errors_total", code="BAD_REQUEST") == 1


async def test_upstream_calls_are_counted_as_the_accounting_reports_them(
    gateway: Gateway,
) -> None:
    body = await post(
        gateway,
        {"query": "{ workItems(first: 5) { nodes { id } } projects(first: 1) { nodes { id } } }"},
    )
    assert "errors" not in body
    report = body["extensions"]["upstreamCalls"]
    samples = await scrape(gateway)
    assert total(samples, "gateway_upstream_requests_total") == report["total"]
    for vendor, entry in report["byVendor"].items():
        assert total(samples, "gateway_upstream_requests_total", vendor=vendor) == entry["count"]
        histogram = value(samples, "gateway_upstream_duration_seconds_count", vendor=vendor)
        assert histogram == entry["count"]
    assert total(samples, "gateway_upstream_requests_total", status="200") == report["total"]


async def test_a_vendor_failure_is_labelled_by_its_status(gateway: Gateway) -> None:
    gateway.inject(lambda request: httpx.Response(503) if "/invoiced" in request.url.path else None)
    body = await post(gateway, {"query": "{ tasks(first: 1) { nodes { id } } }"})
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]

    def refuse(request: httpx.Request) -> httpx.Response | None:
        if "/fakturoid" in request.url.path:
            raise httpx.ConnectError("refused", request=request)
        return None

    gateway.inject(refuse)
    body = await post(gateway, {"query": "{ todos(first: 1) { nodes { id } } }"})
    assert codes(body) == ["UPSTREAM_UNAVAILABLE"]
    samples = await scrape(gateway)
    assert value(samples, "gateway_upstream_requests_total", vendor="invoiced", status="503") == 1
    unreachable = {"vendor": "fakturoid", "status": "unreachable"}
    assert value(samples, "gateway_upstream_requests_total", **unreachable) == 1
    outcome = {"operation": "anonymous", "outcome": "error"}
    assert value(samples, "gateway_operations_total", **outcome) == 2


async def test_token_grants_are_counted_once_per_grant(gateway: Gateway) -> None:
    for _ in range(3):
        body = await post(gateway, {"query": "{ projects(first: 1) { nodes { id } } }"})
        assert "errors" not in body
    samples = await scrape(gateway)
    assert value(samples, "gateway_token_grants_total", vendor="zoho", outcome="granted") == 1
    assert total(samples, "gateway_token_grants_total", vendor="fakturoid") == 0


async def test_refused_and_held_token_grants_are_counted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, FAKTUROID_CLIENT_SECRET="wrong-secret") as gateway:
        for _ in range(2):
            body = await post(gateway, {"query": "{ todos(first: 1) { nodes { id } } }"})
            assert codes(body) == ["UPSTREAM_AUTH"]
        samples = await scrape(gateway)
    refused = {"vendor": "fakturoid", "outcome": "refused"}
    assert value(samples, "gateway_token_grants_total", **refused) == 1
    held = {"vendor": "fakturoid", "outcome": "held"}
    assert value(samples, "gateway_token_grants_total", **held) == 1


async def test_breaker_state_and_refusals(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(monkeypatch, GATEWAY_BREAKER_FAILURES="2") as gateway:
        samples = await scrape(gateway)
        for vendor in ("invoiced", "zoho", "readydesk", "fakturoid"):
            assert value(samples, "gateway_breaker_state", vendor=vendor, state="closed") == 1
        gateway.inject(
            lambda request: httpx.Response(500) if "/invoiced" in request.url.path else None
        )
        for _ in range(3):
            await post(gateway, {"query": "{ tasks(first: 1) { nodes { id } } }"})
        samples = await scrape(gateway)
    assert value(samples, "gateway_breaker_state", vendor="invoiced", state="open") == 1
    assert value(samples, "gateway_breaker_state", vendor="invoiced", state="closed") == 0
    assert value(samples, "gateway_breaker_state", vendor="zoho", state="closed") == 1
    assert value(samples, "gateway_breaker_consecutive_failures", vendor="invoiced") == 2
    assert value(samples, "gateway_breaker_refusals_total", vendor="invoiced") == 1
    assert value(samples, "gateway_upstream_requests_total", vendor="invoiced", status="500") == 2


async def test_each_app_has_its_own_registry(settings: Any) -> None:
    async with running_gateway(settings) as first, running_gateway(settings) as second:
        await post(first, {"query": "query Mine { __typename }"})
        assert value(
            await scrape(first), "gateway_operations_total", operation="Mine", outcome="ok"
        )
        assert not value(
            await scrape(second), "gateway_operations_total", operation="Mine", outcome="ok"
        )


async def test_client_operation_names_cannot_grow_the_series(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics_module, "MAX_OPERATION_NAMES", 2)
    for name in ("A", "B", "C", "D"):
        await post(gateway, {"query": f"query {name} {{ __typename }}"})
    await post(gateway, {"query": "{ __typename }", "operationName": "x" * 500})
    samples = await scrape(gateway)
    names = {
        dict(labels)["operation"] for (n, labels) in samples if n == "gateway_operations_total"
    }
    assert names == {"A", "B", "other"}
    assert value(samples, "gateway_operations_total", operation="other", outcome="ok") == 2
    invalid = {"operation": "other", "outcome": "rejected"}
    assert value(samples, "gateway_operations_total", **invalid) == 1


async def test_metrics_can_be_switched_off(monkeypatch: pytest.MonkeyPatch) -> None:
    async with gateway_with(monkeypatch, GATEWAY_METRICS="false") as gateway:
        assert (await gateway.client.get("/metrics")).status_code == 404
        body = await post(gateway, {"query": "{ tasks(first: 1) { nodes { id } } }"})
        assert "errors" not in body
