"""With client authentication on, no way of sending an operation runs it for a client
that has not proved who it is, or beyond that client's scopes: not a percent-encoded
parameter name, not a persisted query's hash alone, not a browser's headers. Only the
explorer page, which runs nothing, is served without credentials."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.conftest import Gateway, codes
from tests.harness import gateway_with
from tests.test_client_auth import KEYS, api_keys_setting

# The vendors' own answers and calls are the subject here, not the shared read cache.
pytestmark = pytest.mark.usefixtures("cache_off")

QUERY = "{tasks(first:1){nodes{name}} projects(first:1){nodes{name}}}"
SPACED = "{ tasks(first: 1) { nodes { name } } projects(first: 1) { nodes { name } } }"
DOCUMENT_ID = "tasks-and-projects"
PREFLIGHT = {"Apollo-Require-Preflight": "1"}
EVERYTHING = {"X-API-Key": KEYS["everything"][0]}


def persisted(key: str) -> str:
    return json.dumps({"persistedQuery": {"version": 1, "sha256Hash": key}})


APQ = persisted(hashlib.sha256(QUERY.encode()).hexdigest())
BY_ID = persisted(DOCUMENT_ID)


def q(text: str) -> str:
    return quote(text, safe="")


@dataclass(frozen=True)
class Way:
    """A request as sent: the target's query string is not re-encoded on the way."""

    name: str
    method: str
    target: str
    content_type: str | None = None
    body: bytes = b""
    manifest: bool = False  # sent to a gateway that runs only its manifest's documents

    def __str__(self) -> str:
        return self.name


def json_body(value: object) -> bytes:
    return json.dumps(value).encode()


# Each of these runs QUERY for a client allowed to (test_each_way_really_runs_the_operation).
RUNNING = [
    Way("POST JSON", "POST", "/graphql", "application/json", json_body({"query": QUERY})),
    Way("POST JSON; charset", "POST", "/graphql", "application/json; charset=utf-8",
        json_body({"query": QUERY})),
    Way("GET query", "GET", f"/graphql?query={q(QUERY)}"),
    Way("GET %71uery", "GET", f"/graphql?%71uery={q(QUERY)}"),
    Way("GET q%75ery", "GET", f"/graphql?q%75ery={q(QUERY)}"),
    Way("GET %71%75%65%72%79", "GET", f"/graphql?%71%75%65%72%79={q(QUERY)}"),
    Way("GET + for spaces", "GET", "/graphql?query=" + q(SPACED).replace("%20", "+")),
    Way("GET %20 for spaces", "GET", f"/graphql?query={q(SPACED)}"),
    Way("GET query after another parameter", "GET", f"/graphql?utm_source=x&query={q(QUERY)}"),
    Way("GET duplicated query", "GET", f"/graphql?query={q('{__typename}')}&query={q(QUERY)}"),
    Way("GET APQ hash only", "GET", f"/graphql?extensions={q(APQ)}"),
    Way("GET APQ hash, %65xtensions", "GET", f"/graphql?%65xtensions={q(APQ)}"),
    Way("POST APQ hash only", "POST", "/graphql", "application/json",
        json_body({"extensions": json.loads(APQ)})),
    Way("GET manifest id", "GET", f"/graphql?extensions={q(BY_ID)}", manifest=True),
    Way("POST manifest id", "POST", "/graphql", "application/json",
        json_body({"extensions": json.loads(BY_ID)}), manifest=True),
]  # fmt: skip

# Each of these carries QUERY somewhere the gateway does not read an operation from.
NEVER_RUN = [
    Way("POST application/graphql", "POST", "/graphql", "application/graphql", QUERY.encode()),
    Way("POST form", "POST", "/graphql", "application/x-www-form-urlencoded",
        f"query={q(QUERY)}".encode()),
    Way("POST multipart", "POST", "/graphql", "multipart/form-data; boundary=b",
        b'--b\r\nContent-Disposition: form-data; name="operations"\r\n\r\n'
        + json_body({"query": QUERY}) + b"\r\n--b--\r\n"),
    Way("POST batch", "POST", "/graphql", "application/json", json_body([{"query": QUERY}])),
    Way("POST with the query in the URL", "POST", f"/graphql?query={q(QUERY)}",
        "application/json", b"{}"),
    Way("GET Query", "GET", f"/graphql?Query={q(QUERY)}"),
    Way("GET %51uery", "GET", f"/graphql?%51uery={q(QUERY)}"),
    Way("GET query%3D", "GET", f"/graphql?query%3D{q(QUERY)}"),
]  # fmt: skip

CREDENTIALS = {
    "none": {},
    "wrong key": {"X-API-Key": "tgw_wrong_0001"},
    "wrong bearer key": {"Authorization": "Bearer tgw_wrong_0001"},
    "wrong bearer token": {"Authorization": "Bearer not.a.jwt"},
    # Writes Invoiced: may read neither vendor of QUERY.
    "too narrow": {"X-API-Key": KEYS["invoiced-writer"][0]},
}
BROWSER_HEADERS = [{}, {"Accept": "text/html"}, PREFLIGHT, {"Accept": "text/html", **PREFLIGHT}]


@pytest.fixture
async def gateways(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> AsyncIterator[dict[bool, Gateway]]:
    """By ``Way.manifest``: a gateway with QUERY registered for APQ, and one whose
    manifest holds QUERY under DOCUMENT_ID."""
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({DOCUMENT_ID: QUERY}))
    keys = api_keys_setting()
    async with (
        gateway_with(monkeypatch, GATEWAY_AUTH="true", GATEWAY_API_KEYS=keys) as apq,
        gateway_with(
            monkeypatch,
            GATEWAY_AUTH="true",
            GATEWAY_API_KEYS=keys,
            GATEWAY_PERSISTED_DOCUMENTS=str(manifest),
        ) as listed,
    ):
        registered = await apq.client.post(
            "/graphql", json={"query": QUERY, "extensions": json.loads(APQ)}, headers=EVERYTHING
        )
        assert registered.json()["data"]["tasks"]["nodes"]
        yield {False: apq, True: listed}


async def send(gateway: Gateway, way: Way, headers: dict[str, str]) -> httpx.Response:
    sent = dict(headers)
    if way.content_type is not None:
        sent["Content-Type"] = way.content_type
    return await gateway.client.request(way.method, way.target, content=way.body, headers=sent)


@pytest.mark.parametrize("way", RUNNING, ids=str)
async def test_each_way_really_runs_the_operation(gateways: dict[bool, Gateway], way: Way) -> None:
    gateway = gateways[way.manifest]
    reached = gateway.record()
    response = await send(gateway, way, {**EVERYTHING, **PREFLIGHT})
    assert response.status_code == 200, response.text
    data = response.json()["data"]
    assert len(data["tasks"]["nodes"]) == len(data["projects"]["nodes"]) == 1
    assert reached


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("way", RUNNING, ids=str)
async def test_no_way_runs_an_operation_without_the_clients_credentials_and_scopes(
    gateways: dict[bool, Gateway], way: Way, credential: str
) -> None:
    gateway = gateways[way.manifest]
    reached = gateway.record()
    for extra in BROWSER_HEADERS:
        response = await send(gateway, way, {**CREDENTIALS[credential], **extra})
        body = response.json()
        seen = (way.name, credential, extra, response.status_code, body)
        # A credential header is not CORS-safelisted either: only a preflight lets a
        # page send it cross-site, so it passes the CSRF rule (and then must hold).
        preflighted = (
            way.method == "POST"
            or "Apollo-Require-Preflight" in extra
            or bool(CREDENTIALS[credential])
        )
        if not preflighted:
            assert response.status_code == 400, seen
            assert "cross-site request forgery" in body["errors"][0]["message"], seen
        elif credential == "too narrow":
            assert response.status_code == 200, seen
            assert body["data"] == {"tasks": None, "projects": None}, seen
            assert codes(body) == ["FORBIDDEN", "FORBIDDEN"], seen
        else:
            assert response.status_code == 401, seen
            assert codes(body) == ["UNAUTHENTICATED"], seen
            assert response.headers["www-authenticate"].startswith("Bearer"), seen
    assert reached == []


@pytest.mark.parametrize("way", NEVER_RUN, ids=str)
async def test_operations_where_no_operation_is_read_run_for_nobody(
    gateways: dict[bool, Gateway], way: Way
) -> None:
    gateway = gateways[way.manifest]
    reached = gateway.record()
    for credential in [*CREDENTIALS.values(), EVERYTHING]:
        for extra in BROWSER_HEADERS:
            response = await send(gateway, way, {**credential, **extra})
            assert '"nodes"' not in response.text, (way.name, credential, extra)
            assert response.status_code != 500
    assert reached == []


@pytest.mark.parametrize(
    "target",
    ["/graphql", "/graphql?utm_source=newsletter", "/graphql?query%3D", "/graphql?Query=x"],
)
@pytest.mark.parametrize(
    "accept",
    ["text/html", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"],
)
async def test_the_explorer_page_is_served_without_credentials(
    gateways: dict[bool, Gateway], target: str, accept: str
) -> None:
    gateway = gateways[False]
    reached = gateway.record()
    response = await gateway.client.get(target, headers={"Accept": accept})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert 'id="graphiql"' in response.text
    assert reached == []


@pytest.mark.parametrize(
    ("target", "accept"),
    [
        ("/graphql", "*/*"),
        ("/graphql", "application/json"),
        ("/graphql", "text/html;q=0"),
        ("/graphql?variables=%7B%7D", "text/html"),
        ("/graphql?operationName=Tasks", "text/html"),
        ("/graphql?documentId=tasks", "text/html"),
        ("/graphql?%76ariables=%7B%7D", "text/html"),
        ("/graphql?query=", "text/html"),
    ],
)
async def test_anything_else_is_not_the_page_and_needs_credentials(
    gateways: dict[bool, Gateway], target: str, accept: str
) -> None:
    response = await gateways[False].client.get(target, headers={"Accept": accept, **PREFLIGHT})
    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]


async def test_a_request_let_in_without_a_client_runs_nothing(
    gateways: dict[bool, Gateway], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Should the client gate ever let an operation in without a principal, the view
    refuses it: there is no principal to fall back on."""
    gateway = gateways[False]
    monkeypatch.setattr("gateway.http.gate.is_explorer_page_request", lambda scope: True)
    reached = gateway.record()
    response = await gateway.client.get(f"/graphql?query={q(QUERY)}", headers=PREFLIGHT)
    assert response.status_code == 401
    assert codes(response.json()) == ["UNAUTHENTICATED"]
    assert response.headers["www-authenticate"] == 'Bearer realm="task-gateway"'
    assert reached == []


async def test_graphql_under_a_root_path_is_guarded_too(gateways: dict[bool, Gateway]) -> None:
    """Behind a proxy that mounts the gateway under a prefix (``--root-path``), the
    request reaches /graphql through the router, with the same guards."""
    gateway = gateways[False]
    reached = gateway.record()
    transport = httpx.ASGITransport(app=gateway.app, root_path="/api")
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        refused = await client.post("/api/graphql", json={"query": QUERY})
        assert refused.status_code == 401
        assert reached == []
        narrow = await client.post(
            "/api/graphql", json={"query": QUERY}, headers=CREDENTIALS["too narrow"]
        )
        assert codes(narrow.json()) == ["FORBIDDEN", "FORBIDDEN"]
        assert reached == []
        page = await client.get("/api/graphql", headers={"Accept": "text/html"})
        assert 'id="graphiql"' in page.text
        allowed = await client.post("/api/graphql", json={"query": QUERY}, headers=EVERYTHING)
        assert allowed.json()["data"]["tasks"]["nodes"]


async def test_with_authentication_off_each_address_is_a_client_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No credentials are asked for (every scope), and each address still has its
    own requests a minute."""
    async with gateway_with(monkeypatch, GATEWAY_CLIENT_REQUESTS_PER_MINUTE="1") as gateway:
        first = await gateway.client.get(f"/graphql?%71uery={q(QUERY)}", headers=PREFLIGHT)
        assert first.json()["data"]["projects"]["nodes"]
        again = await gateway.client.get(f"/graphql?%71uery={q(QUERY)}", headers=PREFLIGHT)
        assert again.status_code == 429
        assert codes(again.json()) == ["RATE_LIMITED"]
