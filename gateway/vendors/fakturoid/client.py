"""The Fakturoid v3 adapter: todos over OAuth client credentials.

Wire facts (vendor doc and VENDORS.md): everything lives under
``{api_url}/accounts/{slug}/``; every request, the token grant included, must
carry a ``User-Agent`` naming the app and a contact (400 otherwise); lists take
``page`` (40 todos a page, no Link header, a short or empty page ends the list)
and ``since`` (ISO 8601; todos created after it).
"""

from __future__ import annotations

import asyncio
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from gateway.core.errors import UpstreamMisconfigured
from gateway.core.records import BadRecord, bad, good
from gateway.core.work import WorkBatch, WorkQuery, WorkRecord, WorkSort
from gateway.state.changes import ChangeEvent
from gateway.state.storage.base import SharedStore
from gateway.state.storage.tokens import SharedToken, credentials_key
from gateway.state.storage.work_snapshots import work_snapshots
from gateway.state.work_snapshots import streamed_batch
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.client import Upstream, UpstreamPolicy, create_client
from gateway.upstream.responses import json_body

from .auth import token_cache
from .models import FakturoidTodo, TodoPage, TodoParser
from .paging import MAX_SCAN_PAGES
from .seen import SeenTodos
from .settings import FakturoidSettings
from .status import raise_for_fakturoid
from .vendor import FAKTUROID

# Pages of todos read at once when the work list must read them all.
READ_AHEAD = 8

_API_SUFFIX = re.compile(r"/api/v\d+/?$")


def web_url(api_url: str) -> str:
    """The web app's root for an API root: ``https://app.fakturoid.cz/api/v3`` gives
    ``https://app.fakturoid.cz``. [guess] that the app sits beside the API, as it does
    on app.fakturoid.cz; an unrecognised API URL falls back to its origin."""
    stripped = _API_SUFFIX.sub("", api_url.rstrip("/"))
    if stripped != api_url.rstrip("/"):
        return stripped
    parts = urlsplit(api_url)
    return f"{parts.scheme}://{parts.netloc}"


class FakturoidAdapter:
    vendor = FAKTUROID
    # Todos have no due or update times (see work_record): under these sorts they all
    # come last, so the work list asks Fakturoid only when its page gets there.
    sorts_without_values = frozenset({WorkSort.DUE_AT, WorkSort.UPDATED_AT})

    def __init__(
        self,
        settings: FakturoidSettings,
        client: httpx.AsyncClient,
        *,
        breaker: CircuitBreaker | None = None,
        store: SharedStore | None = None,
    ) -> None:
        user_agent = (settings.user_agent or "").strip()
        if not user_agent:
            # The settings already refuse this; an adapter built by hand must too,
            # since Fakturoid answers 400 to every call without one.
            raise ValueError("FAKTUROID_USER_AGENT is required, e.g. 'AppName (you@example.com)'")
        if not (settings.account_slug and settings.client_id and settings.client_secret):
            raise ValueError("Fakturoid needs an account slug, a client id and a client secret")
        # A client-wide default header, so no request (the token grant included) lacks it.
        client.headers["User-Agent"] = user_agent
        client.headers["Accept"] = "application/json"
        self.upstream = Upstream(FAKTUROID, client, breaker=breaker)
        shared = None
        if store is not None:
            key = credentials_key(FAKTUROID.value, settings.api_url, settings.client_id)
            shared = SharedToken(store, key)
        self.tokens = token_cache(
            self.upstream,
            settings.client_id,
            settings.client_secret.get_secret_value(),
            shared=shared,
        )
        self._account = f"accounts/{quote(settings.account_slug, safe='')}"
        self._parser = TodoParser(web_url(settings.api_url), settings.account_slug)
        # Every todo a list page shows, for by-id reads (see seen.py).
        self.seen = SeenTodos(
            store, settings.api_url, settings.account_slug, max_age=settings.by_id_max_age
        )
        self._snapshots = work_snapshots(
            store, FAKTUROID.value, settings.api_url, settings.account_slug
        )

    @classmethod
    def from_settings(
        cls,
        settings: FakturoidSettings,
        *,
        policy: UpstreamPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> FakturoidAdapter:
        client = create_client(
            settings.api_url,
            timeout=policy.timeout,
            transport=transport,
            max_connections=settings.max_connections,
        )
        return cls(settings, client, breaker=policy.breaker(FAKTUROID), store=policy.store)

    def item_changed(self, event: ChangeEvent, relayed: bool) -> None:
        """A todo's change (gateway.plugin.ChangeAware): its by-id index entry is dropped
        (where the index is shared, the process that learnt of it did so already)."""
        if not (relayed and self.seen.shared):
            self.seen.changed(event)

    async def aclose(self) -> None:
        await self.seen.settled()
        await self.upstream.aclose()

    async def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        token = await self.tokens.token()
        response = await self._send(method, path, token, **kwargs)
        if response.status_code == 401:
            # Expired early or revoked: one fresh token and one retry, never a loop.
            # Retrying a toggle is safe here because a 401 means it was not applied.
            token = await self.tokens.renew(token)
            response = await self._send(method, path, token, **kwargs)
        return response

    async def _send(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return await self.upstream.send(method, path, headers=headers, **kwargs)

    async def list_page(self, page: int, since: datetime | None = None) -> TodoPage:
        """Page ``page`` (1-based, 40 todos, newest first) of the todos created after ``since``."""
        if page < 1:
            raise ValueError("pages are numbered from 1")
        params: dict[str, str | int] = {"page": page}
        if since is not None:
            if since.tzinfo is None:
                raise ValueError("since must carry a UTC offset")
            params["since"] = since.isoformat()
        response = await self._call("GET", f"{self._account}/todos.json", params=params)
        if response.status_code == 404:
            # On a list, 404 can only mean the account itself is unknown.
            raise UpstreamMisconfigured(
                FAKTUROID, "the account was not found; check FAKTUROID_ACCOUNT_SLUG", status=404
            )
        raise_for_fakturoid(response)
        parsed = self._parser.page(page, json_body(FAKTUROID, response))
        await self.seen.saw(parsed.items)
        return parsed

    async def toggle_completion(self, todo_id: int) -> FakturoidTodo:
        """Complete an open todo or reopen a completed one; NotFound for an unknown id."""
        path = f"{self._account}/todos/{todo_id}/toggle_completion.json"
        try:
            response = await self._call("POST", path)
        finally:
            await self._snapshots.clear()  # even a toggle that timed out may have landed
        raise_for_fakturoid(response)
        todo = self._parser.todo(json_body(FAKTUROID, response))
        await self.seen.saw([todo])
        return todo

    async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch:
        """Todos for the cross-vendor work list, in ``query``'s order.

        Fakturoid lists only newest first and filters only by ``since``: that order
        (which is also the order under sorts todos have no value for) is streamed a
        page per batch; any other order reads the newest pages (at most
        MAX_SCAN_PAGES) in one batch, sorts them here and keeps that set for the
        following pages (see WorkSnapshots). Filters apply here.
        """
        if query.needs_due_date:
            return WorkBatch([], None)  # todos have no due date, so none can match
        # Todos have no due or update times, so under those sorts every todo ties and
        # falls back to newest first: Fakturoid's own order, streamable as well.
        streamable = query.sort in (WorkSort.DUE_AT, WorkSort.UPDATED_AT) or (
            query.sort is WorkSort.CREATED_AT and query.descending
        )
        if streamable:

            async def read_page(number: int) -> tuple[list[WorkRecord | BadRecord], bool]:
                page = await self.list_page(number)
                records: list[WorkRecord | BadRecord] = []
                for todo in page.items:
                    if isinstance(todo, BadRecord):
                        records.append(todo)
                    elif query.matches(record := work_record(todo)):
                        records.append(record)
                return records, not page.is_last

            # Each page is kept as read, so the list's next page resumes inside it.
            return await streamed_batch(self._snapshots, query, position, read_page)
        cached = await self._snapshots.get(position, query)
        if cached is not None:
            return WorkBatch(cached, None, position)
        todos = await self._newest_todos()
        records = sorted(
            (r for r in map(work_record, good(todos)) if query.matches(r)), key=query.sort_key
        )
        kept = await self._snapshots.put(query, records)
        return WorkBatch(records, None, kept, bad_records=tuple(bad(todos)))

    async def _newest_todos(self) -> list[FakturoidTodo | BadRecord]:
        """The newest MAX_SCAN_PAGES pages of todos, read ahead a growing window at a time.

        Fakturoid tells neither the count nor the last page, and a page read after
        another is a round trip more on the work list's latency: each full round
        reads twice as many pages at once (at most READ_AHEAD), so 100 todos cost
        two rounds, not three, at the price of at most one round of empty pages.
        """
        todos: list[FakturoidTodo | BadRecord] = []
        first, window = 1, 1
        while first <= MAX_SCAN_PAGES:
            numbers = range(first, min(first + window, MAX_SCAN_PAGES + 1))
            for page in await asyncio.gather(*(self.list_page(n) for n in numbers)):
                todos.extend(page.items)
                if page.is_last:
                    return todos
            first, window = numbers.stop, min(window * 2, READ_AHEAD)
        return todos


def work_record(todo: FakturoidTodo) -> WorkRecord:
    return WorkRecord(
        vendor=FAKTUROID,
        key=str(todo.id),
        title=todo.title,
        completed=todo.completed,
        due_at=None,
        created_at=todo.created_at,
        updated_at=None,
        completed_at=todo.completed_at,
        url=todo.url,
        item=todo,
        text=todo.text,
    )
