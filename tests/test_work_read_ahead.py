"""A work list that must read every todo reads Fakturoid's pages ahead, not one by one.

Fakturoid tells neither the count nor the last page; by title the gateway needs
all of them, and each page read after another is a round trip more on the list.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from gateway.http.sandboxes import create_sandbox_app
from tests.harness import gateway_with

TODO_PAGES = "/fakturoid/api/v3/accounts/applecorp/todos.json"


class InFlight(httpx.AsyncBaseTransport):
    """Passes requests to the sandbox, holding each todo page briefly to see overlaps."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.pending: set[str] = set()
        self.rounds: list[set[str]] = []  # the pages in flight together, as they began

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path != TODO_PAGES:
            return await self.inner.handle_async_request(request)
        page = request.url.params["page"]
        if not self.pending:
            self.rounds.append(set())
        self.pending.add(page)
        self.rounds[-1].add(page)
        try:
            await asyncio.sleep(0.02)  # long enough for the pages sent with it to arrive
            return await self.inner.handle_async_request(request)
        finally:
            self.pending.discard(page)


@pytest.mark.parametrize("sort", [{"field": "TITLE"}, {"field": "CREATED_AT"}])
async def test_all_todos_are_read_in_growing_rounds(
    monkeypatch: pytest.MonkeyPatch, sort: dict[str, str]
) -> None:
    pages = InFlight(httpx.ASGITransport(app=create_sandbox_app()))
    async with gateway_with(monkeypatch, pages) as gateway:
        query = """query($sort: WorkItemSort) { workItems(first: 100, sort: $sort,
          filter: {vendors: [FAKTUROID]}) { nodes { id } pageInfo { hasNextPage } } }"""
        body = await gateway.execute(query, {"sort": sort})

    assert "errors" not in body
    assert len(body["data"]["workItems"]["nodes"]) == 100
    # 100 todos are pages of 40, 40 and 20: page 1, then pages 2 and 3 together,
    # each read once and none past the short last page.
    assert pages.rounds == [{"1"}, {"2", "3"}]
