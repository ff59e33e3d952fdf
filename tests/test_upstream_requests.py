"""Each vendor receives exactly the requests its documentation shows: request line,
header set and body bytes, for every operation the gateway performs on it.

Through the production transport to a raw TCP server that records what
arrives and forwards it to the sandboxes. That server reads request bodies by
Content-Length only, as a strict server does, so a request sent with a body its
method does not carry (a chunked ``0`` on a GET) shows up as a request of its own.
"""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from gateway.core.ids import encode_id
from gateway.http.sandboxes import create_sandbox_app, sandbox_env
from gateway.upstream.client import USER_AGENT
from gateway.vendors.fakturoid import FAKTUROID
from gateway.vendors.invoiced import INVOICED
from gateway.vendors.readydesk import READYDESK
from gateway.vendors.zoho import ZOHO
from tests.conftest import gateway_settings
from tests.raw_vendor import Received, graphql, raw_vendor, served_gateway

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

ANY = re.compile(r".+")
JSON = "application/json"
FAKTUROID_AGENT = "TaskGateway (sandbox@example.com)"

TASK = encode_id(INVOICED, "Task", 700)
PROJECT_ID = "903000000072467"
PROJECT = encode_id(ZOHO, "Project", PROJECT_ID)
PROJECT_TASK = encode_id(ZOHO, "ProjectTask", f"{PROJECT_ID}/903000000073379")
INVOICE = encode_id(READYDESK, "Invoice", 1)
TODO = encode_id(FAKTUROID, "Todo", 108)


@dataclass(frozen=True)
class Expected:
    request_line: str
    # Beyond Host, Accept-Encoding and Connection, which every request has.
    headers: dict[str, str | re.Pattern[str]] = field(default_factory=dict)
    body: bytes | dict[str, Any] = b""


@dataclass(frozen=True)
class Step:
    name: str
    query: str
    expected: list[Expected]


def invoiced(
    request_line: str, body: dict[str, Any] | None = None, *, length: str | None = None
) -> Expected:
    headers: dict[str, str | re.Pattern[str]] = {
        "accept": JSON,
        "user-agent": USER_AGENT,
        # The API key as the Basic user name, with an empty password [doc].
        "authorization": "Basic c2FuZGJveF9pbnZvaWNlZF9rZXk6",
    }
    if body is not None:
        headers["content-type"] = JSON
    if length is not None:
        headers["content-length"] = length
    return Expected(request_line, headers, body if body is not None else b"")


def zoho(request_line: str, body: dict[str, Any] | None = None, **extra: str) -> Expected:
    headers: dict[str, str | re.Pattern[str]] = {
        "accept": JSON,
        "user-agent": USER_AGENT,
        "authorization": re.compile(r"Zoho-oauthtoken 1000\.\S+"),
        "x-com-zoho-invoice-organizationid": "10234695",
        **extra,
    }
    if body is not None:
        headers["content-type"] = JSON
    return Expected(request_line, headers, body if body is not None else b"")


def fakturoid(request_line: str, **extra: str) -> Expected:
    headers: dict[str, str | re.Pattern[str]] = {
        "accept": JSON,
        "user-agent": FAKTUROID_AGENT,
        "authorization": re.compile(r"Bearer \S+"),
        **extra,
    }
    return Expected(request_line, headers)


def readydesk(query: str) -> Expected:
    # The key in the query string [doc]; no body, no content headers on a GET.
    line = f"GET /readydesk/API/default.aspx?{query}&key=readydesk-sandbox-demo-key HTTP/1.1"
    return Expected(line, {"accept": "*/*", "user-agent": USER_AGENT})


ZOHO_GRANT = Expected(
    "POST /zoho/accounts/oauth/v2/token HTTP/1.1",
    {
        "accept": JSON,
        "user-agent": USER_AGENT,
        "content-type": "application/x-www-form-urlencoded",
        "content-length": "169",
    },
    b"grant_type=refresh_token&refresh_token=1000.sandbox0refresh0token.zohoinvoice0demo"
    b"&client_id=1000.SANDBOXZOHOCLIENT0000000000001&client_secret=sandbox-zoho-client-secret",
)
FAKTUROID_GRANT = Expected(
    "POST /fakturoid/api/v3/oauth/token HTTP/1.1",
    {
        "accept": JSON,
        "user-agent": FAKTUROID_AGENT,
        "authorization": "Basic "
        + "ZmFrdHVyb2lkLXNhbmRib3gtY2xpZW50OmZha3R1cm9pZC1zYW5kYm94LXNlY3JldA==",
        "content-type": JSON,
        "content-length": "35",
    },
    {"grant_type": "client_credentials"},
)

ZOHO_PROJECTS = f"/zoho/invoice/v3/projects/{PROJECT_ID}"
TODOS = "/fakturoid/api/v3/accounts/applecorp/todos"

STEPS: dict[str, list[Step]] = {
    "invoiced": [
        Step(
            "list",
            "{ tasks(first: 2) { nodes { id } } }",
            [invoiced("GET /invoiced/tasks?per_page=2&sort=id+asc&page=1 HTTP/1.1")],
        ),
        Step(
            "get by id",
            f'{{ task(id: "{TASK}") {{ name }} }}',
            [invoiced("GET /invoiced/tasks/700 HTTP/1.1")],
        ),
        Step(
            "create",
            'mutation { createTask(input: {name: "Call customer", action: PHONE,'
            ' dueDate: "2026-12-01T09:00:00Z", customerId: 481594}) { task { id } } }',
            [
                invoiced(
                    "POST /invoiced/tasks HTTP/1.1",
                    {
                        "name": "Call customer",
                        "action": "phone",
                        "customer_id": 481594,
                        "due_date": 1796115600,
                    },
                )
            ],
        ),
        Step(
            "update",
            f'mutation {{ updateTask(input: {{id: "{TASK}", action: EMAIL}})'
            " { task { id } } }",
            [invoiced("PATCH /invoiced/tasks/700 HTTP/1.1", {"action": "email"})],
        ),
        Step(
            "set state",
            f'mutation {{ setTaskCompleted(id: "{TASK}", completed: true) {{ task {{ id }} }} }}',
            [
                invoiced("GET /invoiced/tasks/700 HTTP/1.1"),
                invoiced("PATCH /invoiced/tasks/700 HTTP/1.1", {"complete": True}),
            ],
        ),
        Step(
            "delete",
            f'mutation {{ deleteTask(id: "{TASK}") {{ deletedId }} }}',
            # A bodiless request whose method may carry a body says so with a zero
            # length (gateway.upstream.wire.request_bytes); harmless to any server.
            [invoiced("DELETE /invoiced/tasks/700 HTTP/1.1", length="0")],
        ),
    ],
    "zoho": [
        Step(
            "token grant and list",
            "{ projects(first: 2) { nodes { id } } }",
            [
                ZOHO_GRANT,
                zoho(
                    "GET /zoho/invoice/v3/projects?filter_by=Status.All&sort_column=project_name"
                    "&sort_order=A&per_page=2&page=1 HTTP/1.1"
                ),
            ],
        ),
        Step(
            "get by id, with its tasks",
            f'{{ project(id: "{PROJECT}") {{ name tasks(first: 1) {{ nodes {{ id }} }} }} }}',
            [
                zoho(f"GET {ZOHO_PROJECTS} HTTP/1.1"),
                zoho(f"GET {ZOHO_PROJECTS}/tasks?page=1&per_page=200 HTTP/1.1"),
            ],
        ),
        Step(
            "get a task",
            f'{{ projectTask(id: "{PROJECT_TASK}") {{ name }} }}',
            [zoho(f"GET {ZOHO_PROJECTS}/tasks/903000000073379 HTTP/1.1")],
        ),
        Step(
            "create a task",
            f'mutation {{ createProjectTask(input: {{projectId: "{PROJECT}", name: "Painting"}})'
            " { projectTask { id } } }",
            [zoho(f"POST {ZOHO_PROJECTS}/tasks HTTP/1.1", {"task_name": "Painting"})],
        ),
        Step(
            "update a task",
            f'mutation {{ updateProjectTask(input: {{id: "{PROJECT_TASK}", name: "Sanding"}})'
            " { projectTask { id } } }",
            [
                zoho(
                    f"PUT {ZOHO_PROJECTS}/tasks/903000000073379 HTTP/1.1",
                    {"task_name": "Sanding"},
                ),
                # Fields Zoho's answer leaves out are read back.
                zoho(f"GET {ZOHO_PROJECTS}/tasks/903000000073379 HTTP/1.1"),
            ],
        ),
        Step(
            "set state",
            f'mutation {{ setProjectActive(id: "{PROJECT}", active: false)'
            " { project { id } } }",
            [
                # No body and no made-up content type: an empty POST says so by its length.
                zoho(f"POST {ZOHO_PROJECTS}/inactive HTTP/1.1", **{"content-length": "0"}),
                zoho(f"GET {ZOHO_PROJECTS} HTTP/1.1"),
            ],
        ),
        Step(
            "delete a task",
            f'mutation {{ deleteProjectTask(id: "{PROJECT_TASK}") {{ deletedId }} }}',
            [
                zoho(
                    f"DELETE {ZOHO_PROJECTS}/tasks/903000000073379 HTTP/1.1",
                    **{"content-length": "0"},
                )
            ],
        ),
    ],
    "readydesk": [
        Step(
            "list",
            "{ invoices(first: 2) { nodes { id } } }",
            [
                readydesk(
                    "action=get_invoices&output=json&cid=*&order=ID&order_direction=ASC"
                    "&count=3&page=1"
                )
            ],
        ),
        Step(
            "get by id",
            f'{{ invoice(id: "{INVOICE}") {{ total }} }}',
            [readydesk("action=get_invoices&output=json&cid=*&start_tid=1&end_tid=1")],
        ),
        Step(
            "count",
            "{ invoices(first: 1) { totalCount } }",
            [
                readydesk(
                    "action=get_invoices&output=json&cid=*&order=ID&order_direction=ASC"
                    "&count=2&page=1"
                ),
                readydesk("action=get_invoices&output=json&cid=*&count_only=Y"),
            ],
        ),
    ],
    "fakturoid": [
        Step(
            "token grant and list",
            "{ todos(first: 2) { nodes { id } } }",
            [FAKTUROID_GRANT, fakturoid(f"GET {TODOS}.json?page=1 HTTP/1.1")],
        ),
        Step(
            "toggle",
            f'mutation {{ toggleTodoCompletion(id: "{TODO}") {{ todo {{ id }} }} }}',
            [
                # As the doc's request: the User-Agent and no body, so no content type.
                fakturoid(
                    f"POST {TODOS}/108/toggle_completion.json HTTP/1.1",
                    **{"content-length": "0"},
                )
            ],
        ),
    ],
}


def check(received: Received, expected: Expected, host: str) -> None:
    assert received.request_line == expected.request_line
    wanted: dict[str, str | re.Pattern[str]] = {
        "host": host,
        "accept-encoding": ANY,
        "connection": "keep-alive",
        **expected.headers,
    }
    if expected.body:
        wanted.setdefault("content-length", str(len(received.body)))
    names = [name.lower() for name, _ in received.headers]
    assert sorted(names) == sorted(wanted), received.request_line
    for name, value in wanted.items():
        actual = received.header(name)
        assert actual is not None
        if isinstance(value, re.Pattern):
            assert value.fullmatch(actual), (name, actual)
        else:
            assert actual == value, (name, actual)
    if isinstance(expected.body, dict):
        assert json.loads(received.body) == expected.body
    else:
        assert received.body == expected.body


@pytest.mark.parametrize("vendor_name", list(STEPS))
async def test_every_operation_sends_the_documented_request(
    monkeypatch: pytest.MonkeyPatch, vendor_name: str
) -> None:
    async with raw_vendor(create_sandbox_app()) as vendor:
        settings = gateway_settings(monkeypatch, **sandbox_env(vendor.url))
        host = vendor.url.removeprefix("http://")
        async with served_gateway(settings) as client:
            for step in STEPS[vendor_name]:
                vendor.received.clear()
                body = await graphql(client, step.query)
                assert "errors" not in body, (step.name, body)
                # Calls made concurrently may arrive in any order.
                arrived = sorted(vendor.received, key=lambda r: r.request_line)
                wanted = sorted(step.expected, key=lambda e: e.request_line)
                got = [received.request_line for received in arrived]
                assert got == [e.request_line for e in wanted], step.name
                for received, expected in zip(arrived, wanted, strict=True):
                    check(received, expected, host)


async def test_keep_alive_requests_stay_in_step(monkeypatch: pytest.MonkeyPatch) -> None:
    # Two ReadyDesk reads in a row share one connection, and the second arrives as
    # the request it is: nothing of the first is left over in front of it.
    async with raw_vendor(create_sandbox_app()) as vendor:
        settings = gateway_settings(monkeypatch, **sandbox_env(vendor.url))
        async with served_gateway(settings) as client:
            for _ in range(2):
                body = await graphql(client, "{ invoices(first: 2) { nodes { id } } }")
                assert "errors" not in body, body
    first, second = vendor.received
    assert first.connection == second.connection
    assert first.request_line == second.request_line
    assert first.request_line.startswith("GET /readydesk/API/default.aspx?action=get_invoices")
    assert first.body == second.body == b""


async def test_a_vendors_cookies_never_ride_on_later_calls(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The gateway calls a vendor with the same credentials for every client: a cookie
    # one answer sets must not go out with the next call, whoever it is made for.
    async def sets_a_cookie(writer: asyncio.StreamWriter) -> None:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nX-Total-Count: 0\r\n"
            b"Set-Cookie: session=first-client; Path=/\r\nContent-Length: 2\r\n\r\n[]"
        )
        await writer.drain()
        writer.close()

    async with raw_vendor(create_sandbox_app()) as vendor:
        vendor.fault = sets_a_cookie
        # A host name: cookies are kept for names, not for IP addresses.
        url = vendor.url.replace("127.0.0.1", "localhost")
        settings = gateway_settings(monkeypatch, **sandbox_env(url))
        async with served_gateway(settings) as client:
            for _ in range(2):
                body = await graphql(client, "{ tasks(first: 2) { nodes { id } } }")
                assert "errors" not in body, body
    calls = [received for received in vendor.received if "/invoiced/" in received.target]
    assert len(calls) == 2
    assert [received.header("Cookie") for received in calls] == [None, None]
