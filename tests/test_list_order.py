"""`orderBy`: one sort shape for every sortable list, next to the deprecated `sort`."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Gateway, codes

# (list, node field that identifies an item, the deprecated `sort`, the same as `orderBy`)
CASES = [
    (
        "tasks",
        "invoicedId",
        "[{field: DUE_DATE, order: DESC}, {field: NAME, order: ASC}]",
        "[{field: DUE_DATE, direction: DESC}, {field: NAME}]",
    ),
    ("projects", "id", "{field: NAME, order: DESC}", "[{field: NAME, direction: DESC}]"),
    ("invoices", "id", "{field: TOTAL, order: DESC}", "[{field: TOTAL, direction: DESC}]"),
    (
        "workItems",
        "id",
        "{field: TITLE, descending: true}",
        "[{field: TITLE, direction: DESC}]",
    ),
]


async def _ids(gateway: Gateway, name: str, key: str, arguments: str) -> list[Any]:
    body = await gateway.execute(f"{{ {name}(first: 50{arguments}) {{ nodes {{ {key} }} }} }}")
    assert "errors" not in body, body
    return [node[key] for node in body["data"][name]["nodes"]]


@pytest.mark.parametrize(("name", "key", "old", "new"), CASES, ids=[c[0] for c in CASES])
async def test_order_by_sorts_as_the_old_shape_did(
    gateway: Gateway, name: str, key: str, old: str, new: str
) -> None:
    by_default = await _ids(gateway, name, key, "")
    by_sort = await _ids(gateway, name, key, f", sort: {old}")
    by_order = await _ids(gateway, name, key, f", orderBy: {new}")
    assert len(by_order) > 2
    assert by_order == by_sort
    assert by_order != by_default  # the order asked for, not the default one


@pytest.mark.parametrize(("name", "key", "old", "new"), CASES, ids=[c[0] for c in CASES])
async def test_both_shapes_at_once_are_refused(
    gateway: Gateway, name: str, key: str, old: str, new: str
) -> None:
    calls = gateway.record()
    body = await gateway.execute(
        f"{{ {name}(sort: {old}, orderBy: {new}) {{ nodes {{ {key} }} }} }}"
    )
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "orderBy"
    assert calls == []


@pytest.mark.parametrize(
    ("name", "keys"),
    [
        ("projects", "[{field: NAME}, {field: RATE}]"),
        ("invoices", "[{field: TOTAL}, {field: ID}]"),
        ("workItems", "[{field: TITLE}, {field: DUE_AT}]"),
    ],
)
async def test_a_second_key_is_refused_where_the_vendor_sorts_by_one(
    gateway: Gateway, name: str, keys: str
) -> None:
    calls = gateway.record()
    body = await gateway.execute(f"{{ {name}(orderBy: {keys}) {{ nodes {{ id }} }} }}")
    assert codes(body) == ["BAD_USER_INPUT"]
    assert body["errors"][0]["extensions"]["field"] == "orderBy"
    assert calls == []


async def test_the_old_shapes_are_deprecated_in_introspection(gateway: Gateway) -> None:
    body = await gateway.execute(
        """{ __type(name: "Query") { fields { name
             args(includeDeprecated: true) { name isDeprecated deprecationReason } } } }"""
    )
    fields = {field["name"]: field["args"] for field in body["data"]["__type"]["fields"]}
    for name, *_ in CASES:
        args = {arg["name"]: arg for arg in fields[name]}
        assert args["sort"]["isDeprecated"] is True
        assert "`orderBy`" in args["sort"]["deprecationReason"]
        assert args["orderBy"]["isDeprecated"] is False
    # Without includeDeprecated the old argument is hidden, as the spec says.
    plain = await gateway.execute('{ __type(name: "Query") { fields { name args { name } } } }')
    tasks = next(f for f in plain["data"]["__type"]["fields"] if f["name"] == "tasks")
    assert "sort" not in {arg["name"] for arg in tasks["args"]}
