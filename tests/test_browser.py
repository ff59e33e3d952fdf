"""The explorer in a real browser: headless Chromium (Debian's `chromium`) driven by
Playwright opens the demo gateway's /graphql, types and runs operations, and reads the
result pane, the upstream-calls drawer, History, the query-builder Explorer and the
starter tabs. The page must load everything from the gateway itself. Screenshots at
1440 and 1100 px wide are left in test-artifacts/ (git-ignored)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

ARTIFACTS = Path(__file__).parent.parent / "test-artifacts"
STARTERS = json.loads((Path(__file__).parent.parent / "explorer/src/starters.json").read_text())
# Typed on one line: Monaco closes brackets as they are typed and overtypes the closers.
QUERY = "query BrowserTasks { tasks(first: 2, sort: [{field: DUE_DATE}]) { nodes { id name } } }"
# Every vendor at once, and Zoho's tasks after its projects: long paths and four colours.
FAN_OUT = (
    "query EveryVendor { workItems(first: 3, sort: {field: TITLE}) { nodes { title } } "
    "projects(first: 2) { nodes { tasks(first: 1) { totalCount } } } "
    "invoices(first: 1) { nodes { id } } }"
)
ROOT_FIELDS = ["invoices", "projects", "tasks", "todos", "workItems", "node"]


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail(
            "Chromium is needed for the explorer's browser tests: install Debian's package "
            "with `apt-get update && apt-get install -y chromium` (`make test` does this)."
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


def open_explorer(browser: Browser, demo_url: str, width: int = 1440) -> tuple[Page, list[str]]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{demo_url}/graphql")
    page.wait_for_selector(".graphiql-query-editor .monaco-editor", timeout=30_000)
    return page, requested


def screenshot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name))


def run_typed(page: Page, document: str, name: str) -> tuple[Any, str]:
    """Types `document` into a new tab, runs it, and waits for its answer."""
    page.locator(".graphiql-tab-add").click()
    editor = page.locator(".graphiql-query-editor .monaco-editor textarea").first
    editor.focus()
    page.keyboard.type(document)
    page.keyboard.press("Escape")  # close any completion list
    # GraphiQL reads the operation's name from the editor after a pause, as a person's
    # typing gives it: run only once the tab is named after the typed operation.
    expect(page.locator(".graphiql-tab-active")).to_contain_text(name, timeout=10_000)
    return run_active_tab(page, name)


def run_active_tab(page: Page, name: str) -> tuple[Any, str]:
    """Runs the active tab: the gateway's answer, and the text the result pane shows."""
    with page.expect_response(
        lambda answer: answer.url.endswith("/graphql") and answer.request.method == "POST"
    ) as answer:
        page.locator(".graphiql-execute-button").click()
    expect(page.get_by_test_id("upstream-summary")).to_contain_text(f"{name}:", timeout=30_000)
    response = page.locator(".graphiql-response")
    expect(response).to_contain_text('"data"', timeout=30_000)
    # Monaco draws spaces as no-break spaces and wraps long lines.
    return answer.value.json(), response.inner_text().replace("\xa0", " ")


def stored_tabs(page: Page) -> list[dict[str, Any]]:
    """GraphiQL's tabs as it keeps them in the browser's storage: each tab's title, query
    and variables exactly (the editors draw only the lines in view)."""
    stored = page.wait_for_function("() => localStorage.getItem('graphiql:tabState')")
    tabs = json.loads(stored.json_value())["tabs"]
    assert isinstance(tabs, list)
    return tabs


def test_a_typed_query_runs_and_its_calls_are_drawn_in_the_drawer_not_the_result(
    browser: Browser, demo_url: str
) -> None:
    page, requested = open_explorer(browser, demo_url)
    assert page.title() == "task-gateway · GraphQL explorer"
    expect(page.get_by_test_id("product-name")).to_have_text("task-gateway explorer")

    body, shown = run_typed(page, QUERY, "BrowserTasks")
    assert len(body["data"]["tasks"]["nodes"]) == 2 and "errors" not in body
    # The gateway sent the accounting; it went to the drawer, not the result pane.
    assert body["extensions"]["upstreamCalls"]["total"] == 1
    assert '"tasks"' in shown and '"name"' in shown
    # The answer's own extension (how old each vendor's part is) stays in the result.
    assert "upstreamCalls" not in shown and '"freshness"' in shown

    calls = page.get_by_test_id("upstream-call")
    assert calls.count() == 1
    assert calls.first.get_attribute("data-vendor") == "invoiced"
    assert calls.first.get_by_test_id("call-status").inner_text() == "200"
    legend = page.get_by_test_id("upstream-vendor")
    assert [legend.nth(i).get_attribute("data-vendor") for i in range(legend.count())] == [
        "invoiced"
    ]

    # Every asset, worker and request came from the gateway: nothing from a CDN.
    foreign = [url for url in requested if not url.startswith((demo_url, "data:", "blob:"))]
    assert foreign == []
    page.close()


def test_history_lists_an_operation_that_ran(browser: Browser, demo_url: str) -> None:
    page, _ = open_explorer(browser, demo_url)
    run_typed(page, QUERY, "BrowserTasks")
    page.get_by_label("Show History").click()
    items = page.locator(".graphiql-history-item")
    expect(items.first).to_contain_text("BrowserTasks", timeout=10_000)
    page.close()


def test_the_explorer_plugin_lists_the_root_fields(browser: Browser, demo_url: str) -> None:
    page, _ = open_explorer(browser, demo_url)
    page.get_by_label("Show GraphiQL Explorer").click()
    root = page.locator(".graphiql-explorer-root")
    # The fields come from the schema GraphiQL introspected from the gateway.
    for field in ROOT_FIELDS:
        expect(root.locator(f'[data-field-name="{field}"]').first).to_be_visible(timeout=30_000)
    screenshot(page, "explorer-query-builder.png")
    page.close()


def listed_ids(demo_url: str) -> dict[str, str]:
    """The id each placeholder stands for, as the gateway lists it now."""
    ids = {}
    for placeholder, field in STARTERS["ids"].items():
        query = f"{{ {field}(first: 1) {{ nodes {{ id }} }} }}"
        body = httpx.post(f"{demo_url}/graphql", json={"query": query}, timeout=30).json()
        ids[placeholder] = body["data"][field]["nodes"][0]["id"]
    return ids


def filled(value: Any, ids: dict[str, str]) -> Any:
    if isinstance(value, dict):
        return {key: filled(item, ids) for key, item in value.items()}
    return ids.get(value, value) if isinstance(value, str) else value


def test_the_starter_tabs_open_filled_and_each_runs_without_errors(
    browser: Browser, demo_url: str
) -> None:
    page, _ = open_explorer(browser, demo_url)
    ids = listed_ids(demo_url)
    names = [tab["query"].split("(")[0].split("{")[0].split()[1] for tab in STARTERS["tabs"]]
    tabs = page.locator(".graphiql-tab")
    expect(tabs).to_have_count(len(names))
    assert [tabs.nth(i).inner_text().strip() for i in range(len(names))] == names
    stored = stored_tabs(page)
    assert [tab["title"] for tab in stored] == names
    for tab, starter in zip(stored, STARTERS["tabs"], strict=True):
        variables = json.loads(tab["variables"]) if tab["variables"] else {}
        assert variables == filled(starter.get("variables", {}), ids), tab["title"]
    # In the order of docs/queries.md, as its test runs them: the writes to one task end with
    # its removal.
    for index, name in enumerate(names):
        if STARTERS["tabs"][index]["query"].startswith("subscription"):
            continue  # waits for a change: tests/test_browser_subscriptions.py runs it
        tabs.nth(index).locator(".graphiql-tab-button").click()
        expect(page.locator(".graphiql-tab-active")).to_contain_text(name)
        body, shown = run_active_tab(page, name)
        assert "errors" not in body and body["data"], (name, body)
        assert '"errors"' not in shown and "upstreamCalls" not in shown, name
    page.close()


def vendor_colours(page: Page) -> dict[str, str]:
    legend = page.get_by_test_id("upstream-vendor")
    return {
        str(item.get_attribute("data-vendor")): item.locator(".tg-swatch").evaluate(
            "element => getComputedStyle(element).backgroundColor"
        )
        for item in legend.all()
    }


@pytest.mark.parametrize("width", [1440, 1100])
def test_the_drawer_draws_whole_paths_in_vendor_colours(
    browser: Browser, demo_url: str, width: int
) -> None:
    page, _ = open_explorer(browser, demo_url, width)
    run_typed(page, FAN_OUT, "EveryVendor")
    screenshot(page, f"explorer-drawer-{width}.png")

    colours = vendor_colours(page)
    assert set(colours) == {"invoiced", "zoho", "readydesk", "fakturoid"}
    assert len(set(colours.values())) == len(colours), colours
    drawer = page.get_by_test_id("upstream-drawer")
    # Full width, under the editors.
    box, editors = drawer.bounding_box(), page.locator(".graphiql-sessions").bounding_box()
    assert box is not None and editors is not None
    assert box["width"] == width and box["y"] >= editors["y"] + editors["height"]

    # The same operation asked for directly: its calls are the drawer's, path for path.
    direct = httpx.post(
        f"{demo_url}/graphql",
        json={"query": FAN_OUT},
        headers={"X-Upstream-Accounting": "1"},
        timeout=30,
    ).json()["extensions"]["upstreamCalls"]["calls"]
    expected = sorted(f"{call['method']} {call['path']}" for call in direct)
    rows = page.get_by_test_id("upstream-call").all()
    shown = []
    for row in rows:
        path = row.get_by_test_id("call-path")
        shown.append(path.inner_text())
        # Nothing cut: the whole text fits in its cell.
        assert path.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), path.inner_text()
        bar = row.get_by_test_id("call-bar")
        colour = bar.evaluate("element => getComputedStyle(element).backgroundColor")
        assert colour == colours[str(row.get_attribute("data-vendor"))]
        assert float(row.get_by_test_id("call-start").inner_text().removeprefix("+")) >= 0
        assert float(row.get_by_test_id("call-duration").inner_text()) > 0
    assert sorted(shown) == expected
    assert any(len(path) > 30 for path in shown), shown
    page.close()
