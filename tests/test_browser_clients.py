"""A browser app on another origin calls the gateway: headless Chromium (Debian's, driven
by Playwright) opens a page served from a second loopback server on a free port
(tests/clients/browser/, urql as npm installed it) against a gateway with client auth on
and that origin allowed. The page sends `X-API-Key` with fetch (after a real CORS
preflight), and urql sends its default GET with no content type, which the CSRF rule
lets through because the origin is allowed. A page on an origin the gateway does not
list gets nothing it can read."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from tests.conftest import gateway_settings
from tests.servers import serve_in_thread
from tests.test_browser import chromium_path
from tests.test_client_auth import KEYS, api_keys_setting

CLIENTS = Path(__file__).parent / "clients"
KEY = KEYS["everything"][0]
NAMES = ["Call customer about overdue invoice #1", "Send final notice letter #2"]


@dataclass
class Origins:
    gateway: str
    allowed_page: str
    other_page: str


def static_site() -> Starlette:
    if not (CLIENTS / "node_modules" / "@urql" / "core").is_dir():
        pytest.fail("tests/clients/node_modules is needed: run `make install-test`")
    return Starlette(routes=[Mount("/", app=StaticFiles(directory=CLIENTS))])


@pytest.fixture(scope="module")
def origins() -> Iterator[Origins]:
    with serve_in_thread(static_site()) as page, serve_in_thread(static_site()) as other:
        with pytest.MonkeyPatch.context() as patch:
            settings = gateway_settings(
                patch,
                GATEWAY_AUTH="true",
                GATEWAY_API_KEYS=api_keys_setting(),
                GATEWAY_CORS_ORIGINS=page,
            )
        transport = httpx.ASGITransport(app=create_sandbox_app(settings.plugins))
        vendors = [plugin.vendor for plugin in settings.plugins]
        app = create_app(settings, transports=dict.fromkeys(vendors, transport))
        with serve_in_thread(app) as gateway:
            yield Origins(f"{gateway}/graphql", page, other)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def open_app(browser: Browser, site: str, gateway: str) -> Page:
    page = browser.new_page()
    query = urlencode({"gateway": gateway, "key": KEY})
    page.goto(f"{site}/browser/index.html?{query}")
    page.wait_for_function("document.getElementById('status').textContent === 'ready'")
    return page


def call(page: Page, client: str) -> Any:
    return page.evaluate(f"window.gatewayApp.{client}()")


def test_a_page_on_an_allowed_origin_calls_with_an_api_key(
    browser: Browser, origins: Origins
) -> None:
    page = open_app(browser, origins.allowed_page, origins.gateway)
    answer = call(page, "withFetch")
    assert answer["status"] == 200
    assert [task["name"] for task in answer["body"]["data"]["tasks"]["nodes"]] == NAMES
    assert answer["requestId"]  # exposed to the page, to quote in a report
    page.close()


def test_urql_defaults_query_by_get_from_an_allowed_origin(
    browser: Browser, origins: Origins
) -> None:
    page = open_app(browser, origins.allowed_page, origins.gateway)
    methods: list[tuple[str, str | None]] = []
    page.on(
        "request",
        lambda request: (
            methods.append((request.method, request.headers.get("content-type")))
            if request.url.startswith(origins.gateway)
            else None
        ),
    )
    answer = call(page, "withUrql")
    assert answer["error"] is None
    assert [task["name"] for task in answer["data"]["tasks"]["nodes"]] == NAMES
    assert methods == [("GET", None)]
    page.close()


def test_a_page_on_another_origin_reads_nothing(browser: Browser, origins: Origins) -> None:
    page = open_app(browser, origins.other_page, origins.gateway)
    for client in ("withFetch", "withUrql"):
        failure = page.evaluate(
            f"window.gatewayApp.{client}().then(() => null, (error) => String(error))"
        )
        if client == "withUrql":
            # urql turns a network failure into a result whose error says so.
            failure = failure or call(page, client)["error"]
        assert failure and "fetch" in failure.lower(), failure
    page.close()
