"""GraphiQL in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright opens the demo gateway's /graphql, types a query into the editor, presses
run, and reads the result pane and the upstream-calls waterfall. The page must load
everything from the gateway itself. The screenshot is left in test-artifacts/."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
# Typed on one line: Monaco closes brackets as they are typed and overtypes the closers.
QUERY = "query BrowserTasks { tasks(first: 2, sort: [{field: DUE_DATE}]) { nodes { id name } } }"


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Chromium is needed for the GraphiQL browser test: install Debian's package with "
            "`apt-get update && apt-get install -y chromium` (`make test` does this when missing)."
        )
    return path


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        # --no-sandbox: CI runs as root, where Chromium's sandbox cannot start.
        launched = playwright.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox"]
        )
        yield launched
        launched.close()


def open_graphiql(browser: Browser, demo_url: str) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": 1400, "height": 850})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{demo_url}/graphql")
    page.wait_for_selector(".graphiql-query-editor .monaco-editor", timeout=30_000)
    return page, requested


def test_graphiql_runs_a_typed_query_and_draws_its_upstream_calls(
    browser: Browser, demo_url: str
) -> None:
    page, requested = open_graphiql(browser, demo_url)
    editor = page.locator(".graphiql-query-editor .monaco-editor textarea").first
    editor.focus()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.press("Delete")
    page.keyboard.type(QUERY)
    page.keyboard.press("Escape")  # close any completion list
    # GraphiQL reads the operation's name from the editor after a pause, as a person's
    # typing gives it: run only once the tab is named after the typed operation.
    expect(page.locator(".graphiql-tabs")).to_contain_text("BrowserTasks", timeout=10_000)
    page.locator(".graphiql-execute-button").click()

    response = page.locator(".graphiql-response")
    try:
        expect(response).to_contain_text('"tasks"', timeout=30_000)
    finally:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "graphiql.png"))
    text = response.inner_text()
    assert '"nodes"' in text and '"name"' in text and '"errors"' not in text

    waterfall = page.get_by_test_id("upstream-waterfall")
    waterfall.wait_for(timeout=10_000)
    assert "(BrowserTasks)" in page.get_by_test_id("upstream-summary").inner_text()
    vendors = page.get_by_test_id("upstream-vendor")
    assert vendors.count() == 1
    assert vendors.first.get_attribute("data-vendor") == "invoiced"
    calls = vendors.first.get_by_test_id("upstream-call")
    assert calls.count() == 1
    assert calls.first.get_by_test_id("call-status").inner_text() == "200"

    # Every asset, worker and request came from the gateway: nothing from a CDN.
    foreign = [url for url in requested if not url.startswith((demo_url, "data:", "blob:"))]
    assert foreign == []
    page.close()


def test_the_waterfall_shows_fan_out_across_vendors(browser: Browser, demo_url: str) -> None:
    page, _ = open_graphiql(browser, demo_url)
    # The default document: workItems by title asks every vendor at once.
    page.locator(".graphiql-execute-button").click()
    page.get_by_test_id("upstream-waterfall").wait_for(timeout=30_000)
    vendors = page.get_by_test_id("upstream-vendor")
    names = {vendors.nth(i).get_attribute("data-vendor") for i in range(vendors.count())}
    assert names == {"invoiced", "zoho", "fakturoid"}
    starts = [
        float(s.removeprefix("+")) for s in page.get_by_test_id("call-start").all_inner_texts()
    ]
    assert len(starts) >= 3 and all(start >= 0 for start in starts)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "graphiql-waterfall.png"))
    page.close()
