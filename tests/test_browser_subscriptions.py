"""A subscription in the explorer, in a real browser: headless Chromium (Debian's
`chromium`, driven by Playwright) opens a gateway's /graphql with client auth on, its API
key kept in the browser for the starters' ids and typed into the tab's headers, runs the
subscription starter tab (over graphql-transport-ws, the key in connection_init), and
once the gateway holds the subscription a write through HTTP changes the task: its event
shows in the result pane."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from playwright.sync_api import Browser, expect

from tests.test_browser import browser, stored_tabs
from tests.test_subscriptions import AUTH, TOGGLE, Served, served

__all__ = ["browser"]  # the module's Chromium, shared with the explorer's other tests


def wait_until_listening(gateway: Served) -> None:
    # The bus lives in the server's thread; a generous deadline, not a timed assert.
    deadline = time.monotonic() + 30
    while gateway.changes.subscribers < 1:
        assert time.monotonic() < deadline, "the gateway never got the subscription"
        time.sleep(0.02)


def test_a_subscription_runs_in_the_explorer_and_shows_a_change(
    browser: Browser, monkeypatch: pytest.MonkeyPatch
) -> None:
    with served(monkeypatch) as gateway:
        page = browser.new_page(viewport={"width": 1440, "height": 900})
        sockets: list[str] = []
        page.on("websocket", lambda socket: sockets.append(socket.url))
        # The key as GraphiQL keeps it with "persist headers" on: the page asks for the
        # starters' ids with it, and GraphiQL sends it with every operation.
        page.add_init_script(
            "localStorage.setItem('graphiql:shouldPersistHeaders', 'true');"
            f"localStorage.setItem('graphiql:headers', {json.dumps(json.dumps(AUTH))});"
        )
        page.goto(f"{gateway.url}/graphql")
        page.wait_for_selector(".graphiql-query-editor .monaco-editor", timeout=30_000)
        tab = page.locator(".graphiql-tab").filter(has_text="TaskChanged")
        tab.locator(".graphiql-tab-button").click()
        expect(page.locator(".graphiql-tab-active")).to_contain_text("TaskChanged")
        # Each tab has its own headers: the key, typed into this one's editor.
        page.get_by_text("Headers", exact=True).click()
        page.locator('section[aria-label="Headers"] .monaco-editor textarea').last.focus()
        page.keyboard.type(json.dumps(AUTH))
        page.keyboard.press("Escape")
        [stored] = [t for t in stored_tabs(page) if t["title"] == "TaskChanged"]
        task_id = json.loads(stored["variables"])["id"]
        assert not task_id.startswith("<"), "the starter's task id was not filled"
        page.locator(".graphiql-execute-button").click()
        wait_until_listening(gateway)
        toggled = httpx.post(
            f"{gateway.url}/graphql",
            json={"query": TOGGLE, "variables": {"id": task_id}},
            headers=AUTH,
        )
        assert toggled.json()["data"]["toggleTaskCompletion"], toggled.text
        response = page.locator(".graphiql-response")
        expect(response).to_contain_text('"nodeChanged"', timeout=30_000)
        shown = response.inner_text().replace("\xa0", " ")
        page.close()
    assert sockets == [f"{gateway.url.replace('http://', 'ws://')}/graphql"]
    assert task_id in shown and '"UPDATED"' in shown and "errors" not in shown
