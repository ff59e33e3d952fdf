"""`last`/`before` on the offset-paged lists, and `hasPreviousPage` as it is."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway, codes, gateway_settings, running_gateway

PAGE = """query($first: Int, $after: String, $last: Int, $before: String) {
  %s(first: $first, after: $after, last: $last, before: $before) {
    %s pageInfo { hasNextPage hasPreviousPage startCursor endCursor } nodes { id } } }"""


async def _page(gateway: Gateway, name: str, total: bool, **args: Any) -> dict[str, Any]:
    body = await gateway.execute(PAGE % (name, "totalCount" if total else ""), args)
    assert "errors" not in body, body
    page: dict[str, Any] = body["data"][name]
    return page


@pytest.mark.parametrize("total", [False, True], ids=["", "with-totalCount"])
@pytest.mark.parametrize("name", ["tasks", "invoices"])
async def test_backward_walk_gives_the_forward_items(
    gateway: Gateway, name: str, total: bool
) -> None:
    forward: list[str] = []
    after = None
    while True:
        page = await _page(gateway, name, total, first=7, after=after)
        assert page["pageInfo"]["hasPreviousPage"] is (after is not None)
        forward.extend(node["id"] for node in page["nodes"])
        after = page["pageInfo"]["endCursor"]
        if not page["pageInfo"]["hasNextPage"]:
            break
    assert len(forward) > 14

    backward: list[str] = []
    page = await _page(gateway, name, total, last=7)
    assert page["pageInfo"]["hasNextPage"] is False
    while True:
        backward[:0] = [node["id"] for node in page["nodes"]]
        if not page["pageInfo"]["hasPreviousPage"]:
            break
        before = page["pageInfo"]["startCursor"]
        page = await _page(gateway, name, total, last=7, before=before)
        assert page["pageInfo"]["hasNextPage"] is True
    assert backward == forward


async def test_last_before_the_first_item_is_empty(gateway: Gateway) -> None:
    first = await _page(gateway, "tasks", False, first=3)
    calls = gateway.record()
    page = await _page(gateway, "tasks", False, last=5, before=first["pageInfo"]["startCursor"])
    assert page["nodes"] == []
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert calls == []  # nothing lies there, so nothing is asked for
    after = await _page(gateway, "tasks", False, first=2, before=first["pageInfo"]["endCursor"])
    assert [n["id"] for n in after["nodes"]] == [n["id"] for n in first["nodes"][:2]]


@pytest.mark.parametrize("name", ["tasks", "projects", "invoices"])
async def test_first_and_last_together_are_refused(gateway: Gateway, name: str) -> None:
    calls = gateway.record()
    body = await gateway.execute(PAGE % (name, ""), {"first": 2, "last": 2})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "last"
    assert calls == []


async def test_zoho_needs_before_with_last(gateway: Gateway) -> None:
    calls = gateway.record()
    body = await gateway.execute(PAGE % ("projects", ""), {"last": 2})
    assert codes(body) == ["BAD_USER_INPUT"]
    assert calls == []
    third = await _page(gateway, "projects", False, first=3)
    page = await _page(gateway, "projects", False, last=2, before=third["pageInfo"]["endCursor"])
    assert [n["id"] for n in page["nodes"]] == [n["id"] for n in third["nodes"][:2]]
    assert page["pageInfo"]["hasPreviousPage"] is False
    assert page["pageInfo"]["hasNextPage"] is True


async def test_a_status_walk_does_not_page_backward(gateway: Gateway) -> None:
    calls = gateway.record()
    body = await gateway.execute("{ invoices(last: 2, filter: {status: PAID}) { nodes { id } } }")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert calls == []


@pytest.mark.parametrize(
    ("name", "args", "estimate"),
    [
        ("tasks", "last: 5", 3),  # the total, then a window that may straddle two pages
        ("invoices", "last: 5", 3),
        # Before a cursor (offset 19 here) no total is needed.
        ("tasks", 'last: 5, before: "b2Zmc2V0OjE5"', 2),
    ],
)
async def test_last_from_the_end_counts_the_total_call(
    monkeypatch: pytest.MonkeyPatch, name: str, args: str, estimate: int
) -> None:
    query = f"{{ {name}({args}) {{ nodes {{ id }} }} }}"
    settings = gateway_settings(monkeypatch, GATEWAY_MAX_UPSTREAM_CALLS=str(estimate - 1))
    async with running_gateway(settings) as gateway:
        refused = await gateway.execute(query)
    assert codes(refused) == ["OPERATION_TOO_COMPLEX"]
    assert refused["errors"][0]["extensions"]["actual"] == estimate
    settings = gateway_settings(monkeypatch, GATEWAY_MAX_UPSTREAM_CALLS=str(estimate))
    async with running_gateway(settings) as gateway:
        body = await gateway.execute(query, accounting=True)
    assert "errors" not in body, body
    assert 1 <= body["extensions"]["upstreamCalls"]["total"] <= estimate
