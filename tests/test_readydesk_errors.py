"""ReadyDesk failures: hostile XML, truncated bodies, HTTP-200 error wrappers and
the API key, which travels in the query string but must never be seen elsewhere."""

from __future__ import annotations

import logging

import httpx
import pytest

from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import VENDORS
from gateway.vendors.readydesk.sandbox import API_KEY, PREFIX
from gateway.vendors.readydesk.sandbox.wire import render_single
from gateway.vendors.readydesk.wire import OUTPUT_FORMATS
from tests.conftest import Gateway, codes, gateway_settings
from tests.test_readydesk import record_requests

QUERY = "{ invoices(first: 3) { totalCount nodes { invoiceId customerId } } }"
# Nine levels of ten references each: 10**9 copies of "lol" if ever expanded.
LAUGHS = "\n".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE invoices [
<!ENTITY lol0 "lol">
{LAUGHS}
]>
<invoices><invoice><invoice_id>1</invoice_id><customer_id>&lol9;</customer_id></invoice></invoices>"""
EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE invoices [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<invoices><invoice><invoice_id>1</invoice_id><customer_id>&secret;</customer_id></invoice></invoices>"""
DTD_ONLY = '<?xml version="1.0"?>\n<!DOCTYPE invoices SYSTEM "http://example.com/x.dtd">\n<invoices></invoices>'
# Harmless to a plain parser, which would expand it: only a hardened one refuses it.
INTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE invoices [<!ENTITY co "ACME-001">]>
<invoices><invoice><invoice_id>1</invoice_id><customer_id>&co;</customer_id></invoice></invoices>"""
NO_TOTAL = "{ invoices(first: 3) { nodes { invoiceId customerId } } }"


def answer(gateway: Gateway, body: str, status: int = 200) -> None:
    gateway.inject(
        lambda r: (
            httpx.Response(status, text=body, headers={"Content-Type": "text/html"})
            if r.url.path.startswith(PREFIX + "/")
            else None
        )
    )


@pytest.mark.parametrize(
    "body",
    [BILLION_LAUGHS, EXTERNAL_ENTITY, DTD_ONLY, INTERNAL_ENTITY],
    ids=["laughs", "external", "dtd", "internal"],
)
async def test_hostile_xml_is_refused_unexpanded(gateway: Gateway, body: str) -> None:
    answer(gateway, body)
    result = await gateway.execute(NO_TOTAL)
    assert codes(result) == ["UPSTREAM_BAD_RESPONSE"]
    # Refused by the hardened parser itself, not by a later failure to parse.
    assert "DTD or entities" in result["errors"][0]["message"]
    assert result["errors"][0]["extensions"]["vendor"] == "readydesk"
    assert "lol" not in str(result) and "passwd" not in str(result)


async def sandbox_body(gateway: Gateway, output: str) -> str:
    """What the sandbox itself answers to the gateway's first-page request."""
    transport = httpx.ASGITransport(app=gateway.sandbox_app(PREFIX))
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        params = {"key": API_KEY, "action": "get_invoices", "cid": "*", "output": output}
        response = await client.get("/API/default.aspx", params={**params, "count": "4"})
    return response.text


@pytest.mark.parametrize("output", OUTPUT_FORMATS)
async def test_truncated_bodies_are_upstream_errors(gateway: Gateway, output: str) -> None:
    whole = await sandbox_body(gateway, output)
    for cut in (len(whole) // 2, len(whole) - 25):
        gateway.transport.faults.clear()
        answer(gateway, whole[:cut])
        result = await gateway.execute(QUERY)
        assert codes(result) == ["UPSTREAM_BAD_RESPONSE"], (output, cut)


ERROR_CASES = [
    ("Invalid API key", "UPSTREAM_AUTH", None),
    ("Invalid column name 'hunter2'.", "UPSTREAM_REJECTED", "order"),
    ("Incorrect syntax near 'hunter2'.", "UPSTREAM_REJECTED", "order"),
    ("Invalid date_type: 'hunter2'", "UPSTREAM_REJECTED", "date_type"),
    ("page requires a wildcard cid or id and count hunter2", "UPSTREAM_REJECTED", None),
    ("Timeout expired. hunter2 Server=sql01;Password=x", "UPSTREAM_UNAVAILABLE", None),
]


@pytest.mark.parametrize("output", OUTPUT_FORMATS)
@pytest.mark.parametrize(("message", "code", "param"), ERROR_CASES)
async def test_error_wrappers_with_http_200_are_errors(
    gateway: Gateway, output: str, message: str, code: str, param: str | None
) -> None:
    answer(gateway, render_single(output, "error", message))  # type: ignore[arg-type]
    result = await gateway.execute(QUERY)
    assert codes(result) == [code]
    extensions = result["errors"][0]["extensions"]
    assert extensions["vendor"] == "readydesk"
    assert extensions.get("param") == param
    assert "hunter2" not in str(result) and "Password" not in str(result)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ("<!DOCTYPE html><html><body>Login</body></html>", 200, "UPSTREAM_BAD_RESPONSE"),
        ("<html><body>Runtime Error</body></html>", 200, "UPSTREAM_BAD_RESPONSE"),
        ('{"response":[{"count":"31"}]}', 200, "UPSTREAM_BAD_RESPONSE"),
        ('{"invoices":[{"invoice_id":{"nested":"x"}}]}', 200, "UPSTREAM_BAD_RESPONSE"),
        ("invoice_id=1&customer_id=demo&status=VOID", 200, "UPSTREAM_BAD_RESPONSE"),
        ("<h1>Not Found</h1>", 404, "UPSTREAM_MISCONFIGURED"),
        ("Server Error in '/' Application.", 500, "UPSTREAM_UNAVAILABLE"),
        ("", 403, "UPSTREAM_AUTH"),
    ],
)
async def test_unexpected_bodies_and_statuses(
    gateway: Gateway, body: str, status: int, code: str
) -> None:
    answer(gateway, body, status)
    result = await gateway.execute(QUERY)
    # A record that cannot be read fails in its place (and the count's answer apart).
    assert set(codes(result)) == {code}


async def test_unknown_enum_value_from_upstream_is_a_bad_response(gateway: Gateway) -> None:
    whole = await sandbox_body(gateway, "json")
    answer(gateway, whole.replace('"status":"PAID"', '"status":"VOID"'))
    result = await gateway.execute(QUERY)
    assert set(codes(result)) == {"UPSTREAM_BAD_RESPONSE"}
    assert ["invoices", "nodes"] in [error["path"][:2] for error in result["errors"]]


async def test_the_key_travels_in_the_query_string_and_nowhere_else(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    requests = record_requests(gateway)
    body = await gateway.execute(
        "{ invoices(first: 2) { totalCount nodes { lineItems { title } } } }", accounting=True
    )
    assert "errors" not in body
    assert requests and all(r.url.params["key"] == API_KEY for r in requests)
    assert API_KEY not in str(body) and API_KEY not in caplog.text
    assert "default.aspx" in caplog.text  # the requests were logged, without the key


async def test_a_refused_key_is_upstream_auth_without_leaking(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "rd-wrong-key-0123456789"
    settings = gateway_settings(monkeypatch, READYDESK_API_KEY=secret)
    sandbox = httpx.ASGITransport(app=create_sandbox_app())
    app = create_app(settings, transports=dict.fromkeys(VENDORS, sandbox))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        response = await client.post(
            "/graphql", json={"query": QUERY}, headers={"X-Upstream-Accounting": "1"}
        )
    await app.state.adapters.aclose()
    body = response.json()
    assert body["errors"][0]["extensions"] == {"code": "UPSTREAM_AUTH", "vendor": "readydesk"}
    assert secret not in response.text and secret not in caplog.text


async def test_unconfigured_readydesk_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = gateway_settings(monkeypatch, READYDESK_API_KEY="")
    app = create_app(
        settings,
        transports=dict.fromkeys(VENDORS, httpx.MockTransport(lambda r: httpx.Response(599))),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://gateway"
    ) as client:
        response = await client.post("/graphql", json={"query": QUERY})
        health = await client.get("/healthz")
    assert codes(response.json()) == ["VENDOR_NOT_CONFIGURED"]
    assert "readydesk" not in health.json()["vendors"]
