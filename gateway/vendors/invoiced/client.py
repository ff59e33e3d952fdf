"""Invoiced collections Tasks: Basic auth, unix timestamps, Link-header paging.

Wire facts (vendor docs and VENDORS.md): the API key is the Basic username with
an empty password; lists take ``page`` (1-based) and ``per_page`` (1..100) and
answer with ``X-Total-Count`` and a ``Link`` header; ``filter[field]`` is an
exact match; ``sort`` is ``"field dir,field dir"``; errors are
``{"type", "message", "param"}``.
"""

from __future__ import annotations

from typing import Any

import httpx

from gateway.core.errors import NotFound, UpstreamAuthError, UpstreamBadResponse, UpstreamRejected
from gateway.core.records import BadRecord, bad, good, parse_each
from gateway.core.types import Page, SortDirection
from gateway.core.work import WorkBatch, WorkQuery, WorkRecord, WorkSort
from gateway.state.storage.base import SharedStore
from gateway.state.storage.work_snapshots import work_snapshots
from gateway.state.work_snapshots import streamed_batch
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache.items import item_named
from gateway.upstream.client import Upstream, UpstreamPolicy, create_client
from gateway.upstream.framing import basic_authorization
from gateway.upstream.responses import json_body, raise_for_status

from .models import InvoicedTask, TaskChanges, TaskQuery, held_tasks, parse_task
from .settings import InvoicedSettings
from .vendor import INVOICED, TASK_TYPE

MAX_PER_PAGE = 100
MAX_WORK_PAGES = 20
_WORK_SORT_FIELDS = {
    WorkSort.DUE_AT: "due_date",
    WorkSort.CREATED_AT: "created_at",
    WorkSort.UPDATED_AT: "updated_at",
    WorkSort.TITLE: "name",
}


def _body(changes: TaskChanges) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": changes.name,
        "action": changes.action.value if changes.action else None,
        "customer_id": changes.customer_id,
        "user_id": changes.user_id,
        "due_date": int(changes.due_date.timestamp()) if changes.due_date else None,
        "complete": changes.complete,
    }
    return {key: value for key, value in body.items() if value is not None}


def plan_pages(offset: int, limit: int) -> tuple[int, list[int]]:
    """Choose ``per_page`` and page numbers that cover ``[offset, offset+limit)``.

    Any page size from ``limit`` up to the cap that holds the whole window in one
    page costs a single call; otherwise two consecutive pages of ``limit`` do.
    """
    last = offset + limit - 1
    for per_page in range(limit, MAX_PER_PAGE + 1):
        if offset // per_page == last // per_page:
            return per_page, [offset // per_page + 1]
    first_page = offset // limit + 1
    return limit, [first_page, first_page + 1]


class InvoicedAdapter:
    vendor = INVOICED
    # Tasks may lack a due date one by one, but no sort leaves them all without a value.
    sorts_without_values: frozenset[WorkSort] = frozenset()

    def __init__(
        self,
        settings: InvoicedSettings,
        client: httpx.AsyncClient,
        *,
        breaker: CircuitBreaker | None = None,
        store: SharedStore | None = None,
    ) -> None:
        key = settings.api_key.get_secret_value() if settings.api_key else ""
        # HTTP Basic with the key as the user name, built once as a default header
        # rather than by an auth flow on every call.
        client.headers["Authorization"] = basic_authorization(key, "")
        # Every answer, errors included, is JSON.
        client.headers["Accept"] = "application/json"
        self.upstream = Upstream(INVOICED, client, breaker=breaker)
        self._snapshots = work_snapshots(store, INVOICED.value, settings.api_url, key)

    @classmethod
    def from_settings(
        cls,
        settings: InvoicedSettings,
        *,
        policy: UpstreamPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> InvoicedAdapter:
        client = create_client(
            settings.api_url,
            timeout=policy.timeout,
            transport=transport,
            max_connections=settings.max_connections,
        )
        return cls(settings, client, breaker=policy.breaker(INVOICED), store=policy.store)

    async def aclose(self) -> None:
        await self.upstream.aclose()

    async def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = await self.upstream.send(method, url, **kwargs)
        finally:
            if method != "GET":
                # A write, even one that timed out, may change what the work list shows.
                await self._snapshots.clear()
        if response.status_code >= 400:
            self._raise(response)
        return response

    def _raise(self, response: httpx.Response) -> None:
        status = response.status_code
        try:
            param = response.json().get("param")
        except (ValueError, AttributeError):
            param = None
        if status == 401:
            raise UpstreamAuthError(INVOICED, "the API key was refused")
        if status == 404:
            raise NotFound("Invoiced: no such task", vendor=INVOICED)
        if status == 400:
            where = f" (field {param!r})" if isinstance(param, str) and param else ""
            raise UpstreamRejected(INVOICED, f"the request was refused{where}", status=status)
        raise_for_status(INVOICED, response, what="task")

    async def get_task(self, task_id: int) -> InvoicedTask | None:
        try:
            response = await self._call(
                "GET", f"tasks/{task_id}", item=item_named(TASK_TYPE, task_id)
            )
        except NotFound:
            return None
        return parse_task(json_body(INVOICED, response))

    async def list_tasks(
        self, query: TaskQuery, *, offset: int, limit: int
    ) -> Page[InvoicedTask | BadRecord]:
        per_page, pages = plan_pages(offset, limit)
        params: dict[str, str | int] = {
            "per_page": per_page,
            "sort": ",".join(f"{field.value} {order.value}" for field, order in query.sort),
        }
        filters: dict[str, Any] = {
            "action": query.action.value if query.action else None,
            "complete": None if query.complete is None else int(query.complete),
            "customer_id": query.customer_id,
            "user_id": query.user_id,
        }
        params.update({f"filter[{k}]": v for k, v in filters.items() if v is not None})
        items: list[InvoicedTask | BadRecord] = []
        total: int | None = None
        has_next_link = False
        # Invoiced asks for pages to be fetched in order, so no gather here.
        for page in pages:
            response = await self._call(
                "GET", "tasks", params={**params, "page": page}, holds=held_tasks
            )
            body = json_body(INVOICED, response)
            if not isinstance(body, list):
                raise UpstreamBadResponse(INVOICED, "a task list was not a list")
            items.extend(parse_each(body, parse_task))
            total = _total_count(response)
            has_next_link = "next" in response.links
            if not has_next_link:
                break
        start = offset - (pages[0] - 1) * per_page
        window = items[start : start + limit]
        if total is not None:
            has_next = offset + len(window) < total
        else:
            has_next = has_next_link or start + limit < len(items)
        return Page(items=window, offset=offset, has_next=has_next, total=total)

    async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch:
        """One page of tasks for the cross-vendor list.

        Invoiced sorts and filters completion itself; its filters are exact
        matches only, so due-date ranges and text search are applied here.
        """
        if query.sort is WorkSort.TITLE or (query.sort is WorkSort.DUE_AT and query.descending):
            # Invoiced lists tasks without a due date first when sorting by it
            # descending [guess: nulls count as the largest, as in PostgreSQL; the
            # sandbox does so], where the list wants them last: read whole, sorted here.
            return await self._whole_work_set(query, position)
        direction = SortDirection.DESC if query.descending else SortDirection.ASC
        # Ties, and tasks without a due date (listed last ascending), newest first as
        # WorkQuery.sort_key orders them; the id only orders tasks created together.
        sort: tuple[tuple[str, SortDirection], ...] = ((_WORK_SORT_FIELDS[query.sort], direction),)
        if query.sort is not WorkSort.CREATED_AT:
            sort += (("created_at", SortDirection.DESC),)
        sort += (("id", SortDirection.ASC),)
        params: dict[str, str | int] = {
            "per_page": MAX_PER_PAGE,
            "sort": ",".join(f"{name} {order.value}" for name, order in sort),
        }
        if query.completed is not None:
            params["filter[complete]"] = int(query.completed)

        async def read_page(page: int) -> tuple[list[WorkRecord | BadRecord], bool]:
            response = await self._call(
                "GET", "tasks", params={**params, "page": page}, holds=held_tasks
            )
            body = json_body(INVOICED, response)
            if not isinstance(body, list):
                raise UpstreamBadResponse(INVOICED, "a task list was not a list")
            records: list[WorkRecord | BadRecord] = []
            for item in parse_each(body, parse_task):
                if isinstance(item, BadRecord):
                    records.append(item)
                elif query.matches(record := work_record(item)):
                    records.append(record)
            return records, "next" in response.links

        # Each page is kept as read, so the list's next page resumes inside it.
        return await streamed_batch(self._snapshots, query, position, read_page)

    async def _whole_work_set(self, query: WorkQuery, position: str | None) -> WorkBatch:
        # How Invoiced collates names is not documented [guess: not the gateway's
        # case-insensitive order], and it puts undated tasks first by due date
        # descending, so for those sorts the tasks (up to MAX_WORK_PAGES pages) are
        # read once, sorted here and kept for later pages.
        cached = await self._snapshots.get(position, query)
        if cached is not None:
            return WorkBatch(cached, None, position)
        params: dict[str, str | int] = {"per_page": MAX_PER_PAGE, "sort": "id asc"}
        if query.completed is not None:
            params["filter[complete]"] = int(query.completed)
        tasks: list[InvoicedTask | BadRecord] = []
        for page in range(1, MAX_WORK_PAGES + 1):
            response = await self._call(
                "GET", "tasks", params={**params, "page": page}, holds=held_tasks
            )
            body = json_body(INVOICED, response)
            if not isinstance(body, list):
                raise UpstreamBadResponse(INVOICED, "a task list was not a list")
            tasks.extend(parse_each(body, parse_task))
            if "next" not in response.links:
                break
        records = sorted(
            (r for r in map(work_record, good(tasks)) if query.matches(r)), key=query.sort_key
        )
        kept = await self._snapshots.put(query, records)
        return WorkBatch(records, None, kept, bad_records=tuple(bad(tasks)))

    async def create_task(
        self, changes: TaskChanges, *, idempotency_key: str | None = None
    ) -> InvoicedTask:
        headers = {"Idempotency-Key": idempotency_key} if idempotency_key else None
        response = await self._call("POST", "tasks", json=_body(changes), headers=headers)
        return parse_task(json_body(INVOICED, response))

    async def update_task(self, task_id: int, changes: TaskChanges) -> InvoicedTask:
        response = await self._call(
            "PATCH", f"tasks/{task_id}", json=_body(changes), item=item_named(TASK_TYPE, task_id)
        )
        return parse_task(json_body(INVOICED, response))

    async def delete_task(self, task_id: int) -> None:
        await self._call("DELETE", f"tasks/{task_id}", item=item_named(TASK_TYPE, task_id))


def work_record(task: InvoicedTask) -> WorkRecord:
    return WorkRecord(
        vendor=INVOICED,
        key=str(task.id),
        title=task.name,
        completed=task.complete,
        due_at=task.due_date,
        created_at=task.created_at,
        updated_at=task.updated_at,
        completed_at=task.completed_date,
        url=task.url,
        item=task,
    )


def _total_count(response: httpx.Response) -> int | None:
    value = response.headers.get("X-Total-Count")
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
