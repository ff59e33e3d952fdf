"""Money through HTTP: every amount is a Decimal string with its currency's ISO 4217
minor units: the record's currency when it names one, else the vendor's setting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.core.money import money
from tests.conftest import Gateway
from tests.harness import gateway_with

INVOICES = """{ invoices(first: 20) { nodes {
  subTotal total lineItems { cost } } } }"""
PROJECTS = """{ projects(first: 20) { nodes {
  rate tasks(first: 20) { nodes { rate } } } } }"""


def places(amount: str) -> int:
    assert "e" not in amount.lower(), amount
    return len(amount.split(".")[1]) if "." in amount else 0


def invoice_amounts(body: dict[str, object]) -> list[str]:
    nodes = body["data"]["invoices"]["nodes"]  # type: ignore[index]
    amounts = [n[f] for n in nodes for f in ("subTotal", "total")]
    amounts += [item["cost"] for n in nodes for item in n["lineItems"]]
    return amounts


@pytest.mark.parametrize(
    ("amount", "currency", "expected"),
    [
        ("178.5", "USD", "178.50"),
        ("0", "CZK", "0.00"),
        ("933.6", "eur", "933.60"),
        ("1500.50", "JPY", "1500"),
        ("1501.5", "JPY", "1502"),
        ("12.3", "KWD", "12.300"),
    ],
)
def test_money_has_the_currencys_minor_units(amount: str, currency: str, expected: str) -> None:
    assert str(money(Decimal(amount), currency)) == expected


async def test_readydesk_amounts_have_two_places_by_default(gateway: Gateway) -> None:
    body = await gateway.execute(INVOICES)
    assert "errors" not in body, body
    amounts = invoice_amounts(body)
    assert amounts and all(places(a) == 2 for a in amounts), amounts


@pytest.mark.parametrize(("currency", "digits"), [("JPY", 0), ("KWD", 3)])
async def test_readydesk_amounts_follow_the_help_desks_currency(
    monkeypatch: pytest.MonkeyPatch, currency: str, digits: int
) -> None:
    async with gateway_with(monkeypatch, READYDESK_CURRENCY=currency) as gateway:
        body = await gateway.execute(INVOICES)
    assert "errors" not in body, body
    amounts = invoice_amounts(body)
    assert amounts and all(places(a) == digits for a in amounts), amounts


async def test_zoho_rates_follow_the_project_currency_else_the_organizations(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with gateway_with(monkeypatch, ZOHO_CURRENCY="JPY") as gateway:
        listed = await gateway.execute(PROJECTS)
        first = listed["data"]["projects"]["nodes"][0]
        project_id = (await gateway.execute("{ projects(first: 1) { nodes { id } } }"))["data"][
            "projects"
        ]["nodes"][0]["id"]
        one = await gateway.execute(
            "query($id: ID!) { project(id: $id) { rate currencyCode } }", {"id": project_id}
        )
    assert "errors" not in listed and "errors" not in one, (listed, one)
    # A project read alone names its currency (EUR, two places)...
    assert one["data"]["project"]["currencyCode"] == "EUR"
    assert places(one["data"]["project"]["rate"]) == 2
    # ...a list row and a task do not: the organization's currency (JPY, none) applies.
    assert places(first["rate"]) == 0
    nodes = listed["data"]["projects"]["nodes"]
    task_rates = [t["rate"] for n in nodes for t in n["tasks"]["nodes"] if t["rate"] is not None]
    assert task_rates and all(places(r) == 0 for r in task_rates), task_rates
