"""The Zoho Invoice adapter: projects and project tasks over the v3 API.

Every call carries ``Authorization: Zoho-oauthtoken <token>`` and the
organization header; every answer goes through the envelope check. A call
refused with HTTP 401 and code 57 (the token expired early or was revoked) is
retried once with a renewed token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import httpx

from gateway.core.errors import NotFound, UpstreamBadResponse
from gateway.core.records import BadRecord, bad, good, parse_each
from gateway.core.types import Page
from gateway.core.work import WorkBatch, WorkQuery, WorkRecord, WorkSort
from gateway.state.storage.base import SharedStore
from gateway.state.storage.tokens import SharedToken, credentials_key
from gateway.state.storage.work_snapshots import work_snapshots
from gateway.upstream.breaker import CircuitBreaker
from gateway.upstream.cache.items import item_named
from gateway.upstream.cache.scope import may_answer_from_kept
from gateway.upstream.client import Upstream, UpstreamPolicy, create_client

from .auth import RefreshGrant, StaticToken, TokenSource, refreshing_token
from .models import (
    ProjectQuery,
    ProjectStatus,
    TaskChanges,
    ZohoProject,
    ZohoTask,
    fill_unechoed,
    known_fields,
    parse_project,
    parse_task,
    task_body,
    unechoed,
    written_fields,
)
from .settings import ZohoSettings
from .vendor import PROJECT_TASK_TYPE, ZOHO
from .wire import CODE_NOT_AUTHORIZED, checked, envelope_code, held_tasks

ORG_HEADER = "X-com-zoho-invoice-organizationid"
MAX_PER_PAGE = 200
# A project with more tasks than this many full pages is not plausible; the cap
# only stops a misbehaving `has_more_page` from looping forever.
MAX_TASK_PAGES = 50
_STATUS_FILTERS = {
    None: "Status.All",
    ProjectStatus.ACTIVE: "Status.Active",
    ProjectStatus.INACTIVE: "Status.Inactive",
}


def plan_pages(offset: int, limit: int) -> tuple[int, list[int]]:
    """Choose ``per_page`` and page numbers that cover ``[offset, offset+limit)``:
    one page when some page size up to Zoho's cap holds the window, else two."""
    last = offset + limit - 1
    for per_page in range(limit, MAX_PER_PAGE + 1):
        if offset // per_page == last // per_page:
            return per_page, [offset // per_page + 1]
    first_page = offset // limit + 1
    return limit, [first_page, first_page + 1]


def web_app_url(api_url: str) -> str:
    """The Zoho Invoice web app for the API's data centre: ``www.zohoapis.eu``
    serves ``invoice.zoho.eu``. [guess] Other hosts (a sandbox) get the .com app."""
    host = httpx.URL(api_url).host
    _, found, domain = host.partition("zohoapis.")
    return f"https://invoice.zoho.{domain}" if found and domain else "https://invoice.zoho.com"


def _has_more(body: dict[str, Any]) -> bool:
    context = body.get("page_context")
    return isinstance(context, dict) and context.get("has_more_page") is True


class ZohoAdapter:
    vendor = ZOHO
    # Project tasks have no dates at all (see work_record): under these sorts they
    # all come last, so the work list asks Zoho only when its page gets there.
    sorts_without_values = frozenset({WorkSort.DUE_AT, WorkSort.CREATED_AT, WorkSort.UPDATED_AT})

    def __init__(
        self,
        settings: ZohoSettings,
        client: httpx.AsyncClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        breaker: CircuitBreaker | None = None,
        store: SharedStore | None = None,
    ) -> None:
        # The API and the accounts server answer JSON, refusals included.
        client.headers["Accept"] = "application/json"
        self.upstream = Upstream(ZOHO, client, breaker=breaker)
        self.organization_id = settings.organization_id or ""
        self.currency = settings.currency.upper()
        self.auth: TokenSource
        if settings.uses_static_token and settings.access_token is not None:
            self.auth = StaticToken(settings.access_token.get_secret_value())
        else:
            grant = RefreshGrant(
                self.upstream,
                accounts_url=settings.accounts_url,
                client_id=settings.client_id or "",
                client_secret=settings.client_secret.get_secret_value()
                if settings.client_secret
                else "",
                refresh_token=settings.refresh_token.get_secret_value()
                if settings.refresh_token
                else "",
            )
            key = credentials_key(ZOHO.value, settings.accounts_url, settings.client_id or "")
            self.auth = refreshing_token(
                grant,
                clock=clock,
                shared=SharedToken(store, key) if store is not None else None,
            )
        self._snapshots = work_snapshots(store, ZOHO.value, settings.api_url, self.organization_id)
        # Project pages live in the organization's part of the web app. [guess]
        self._project_url = f"{web_app_url(settings.api_url)}/app/{self.organization_id}#/projects/"

    @classmethod
    def from_settings(
        cls,
        settings: ZohoSettings,
        *,
        policy: UpstreamPolicy,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> ZohoAdapter:
        # One client for both hosts: API paths are relative to the API URL, the
        # token URL is absolute.
        client = create_client(
            settings.api_url,
            timeout=policy.timeout,
            transport=transport,
            max_connections=settings.max_connections,
        )
        return cls(settings, client, breaker=policy.breaker(ZOHO), store=policy.store)

    async def aclose(self) -> None:
        await self.upstream.aclose()

    def _headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Zoho-oauthtoken {token}", ORG_HEADER: self.organization_id}

    async def _send(self, method: str, path: str, token: str, **kwargs: Any) -> httpx.Response:
        return await self.upstream.send(method, path, headers=self._headers(token), **kwargs)

    async def _call(self, method: str, path: str, *, what: str, **kwargs: Any) -> dict[str, Any]:
        token = await self.auth.token()
        try:
            response = await self._send(method, path, token, **kwargs)
            if response.status_code == 401 and envelope_code(response) == CODE_NOT_AUTHORIZED:
                renewed = await self.auth.renew(token)
                if renewed is not None:
                    response = await self._send(method, path, renewed, **kwargs)
        finally:
            if method != "GET":
                # A write, even one that timed out, may change tasks: the next
                # workItems page must read them again.
                await self._snapshots.clear()
        return checked(response, what=what)

    def project_url(self, project_id: str) -> str:
        return self._project_url + project_id

    def _project(self, data: Any) -> ZohoProject:
        try:
            return parse_project(data, self.project_url(str(data["project_id"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(ZOHO, "a project had an unexpected shape") from exc

    def _task(self, data: Any) -> ZohoTask:
        try:
            # Tasks have no page of their own; they are listed on their project's.
            return parse_task(data, self.project_url(str(data["project_id"])))
        except (KeyError, TypeError, ValueError) as exc:
            raise UpstreamBadResponse(ZOHO, "a task had an unexpected shape") from exc

    # Projects

    async def list_projects(
        self, query: ProjectQuery, *, offset: int, limit: int
    ) -> Page[ZohoProject | BadRecord]:
        per_page, pages = plan_pages(offset, limit)
        params: dict[str, str | int] = {
            "filter_by": _STATUS_FILTERS[query.status],
            "sort_column": query.sort_column.value,
            "sort_order": "D" if query.descending else "A",
            "per_page": per_page,
        }
        if query.customer_id:
            params["customer_id"] = query.customer_id
        items: list[ZohoProject | BadRecord] = []
        more = False
        # Pages in order: the second is only needed if the first says there is one.
        for page in pages:
            body = await self._call(
                "GET", "projects", what="project", params={**params, "page": page}
            )
            rows = body.get("projects")
            if not isinstance(rows, list):
                raise UpstreamBadResponse(ZOHO, "a project list was not a list")
            items.extend(parse_each(rows, self._project))
            more = _has_more(body)
            if not more:
                break
        start = offset - (pages[0] - 1) * per_page
        window = items[start : start + limit]
        return Page(items=window, offset=offset, has_next=more or start + limit < len(items))

    async def get_project(self, project_id: str) -> ZohoProject | None:
        try:
            body = await self._call("GET", f"projects/{project_id}", what="project")
        except NotFound:
            return None
        return self._project(body.get("project"))

    async def set_project_active(self, project_id: str, active: bool) -> ZohoProject:
        # [guess] POST /projects/{id}/active|inactive, as Zoho's other "mark as"
        # endpoints are spelled; the Invoice docs do not show them.
        action = "active" if active else "inactive"
        await self._call("POST", f"projects/{project_id}/{action}", what="project")
        # The status call answers with a message only; the project is read back so
        # the caller sees the new modification time too.
        project = await self.get_project(project_id)
        if project is None:
            raise NotFound(f"{ZOHO.label}: no such project", vendor=ZOHO)
        return project

    # Project tasks

    async def list_project_tasks(self, project_id: str) -> list[ZohoTask | BadRecord] | None:
        """Every task of a project (None if there is no such project): Zoho has no
        task count to page against, so the whole list is read and windows are cut
        from it; with up to 200 tasks per page that is one call per project."""
        tasks: list[ZohoTask | BadRecord] = []
        for page in range(1, MAX_TASK_PAGES + 1):
            try:
                body = await self._call(
                    "GET",
                    f"projects/{project_id}/tasks",
                    what="project",
                    params={"page": page, "per_page": MAX_PER_PAGE},
                    holds=held_tasks(project_id),
                )
            except NotFound:
                return None
            rows = body.get("tasks")
            if not isinstance(rows, list):
                raise UpstreamBadResponse(ZOHO, "a task list was not a list")
            tasks.extend(parse_each(rows, self._task))
            if not _has_more(body):
                break
        return tasks

    async def get_project_tasks(
        self, project_ids: list[str]
    ) -> list[list[ZohoTask | BadRecord] | None]:
        return list(await asyncio.gather(*(self.list_project_tasks(p) for p in project_ids)))

    async def work_batch(self, query: WorkQuery, position: str | None) -> WorkBatch:
        """Every task of every active project, for the cross-vendor list.

        Zoho can neither sort nor filter project tasks, and lists them per
        project, so the whole set is read (one call per project page plus one
        per project, concurrently) and filtered and sorted here, in one batch.
        The sorted set is kept for a few minutes under the batch's position, so
        the following pages of the list cost no further Zoho calls and stay
        consistent; an expired or unknown snapshot is simply read again.
        """
        if query.needs_due_date:
            return WorkBatch([], None)  # project tasks have no due date, so none can match
        cached = await self._snapshots.get(position, query)
        if cached is not None:
            return WorkBatch(cached, None, position)
        projects: list[ZohoProject | BadRecord] = []
        page_number = 1
        while True:
            body = await self._call(
                "GET",
                "projects",
                what="project",
                params={
                    "filter_by": "Status.Active",
                    "page": page_number,
                    "per_page": MAX_PER_PAGE,
                },
            )
            rows = body.get("projects")
            if not isinstance(rows, list):
                raise UpstreamBadResponse(ZOHO, "a project list was not a list")
            projects.extend(parse_each(rows, self._project))
            if not _has_more(body) or page_number >= MAX_TASK_PAGES:
                break
            page_number += 1
        task_lists = await self.get_project_tasks([project.id for project in good(projects)])
        tasks = [task for found in task_lists for task in found or []]
        records = [work_record(task) for task in good(tasks)]
        matching = sorted((r for r in records if query.matches(r)), key=query.sort_key)
        kept = await self._snapshots.put(query, matching)
        return WorkBatch(matching, None, kept, bad_records=tuple(bad(projects) + bad(tasks)))

    async def get_task(self, project_id: str, task_id: str) -> ZohoTask | None:
        try:
            body = await self._call(
                "GET",
                _task_path(project_id, task_id),
                what="project task",
                item=_task_item(project_id, task_id),
            )
        except NotFound:
            return None
        return self._task(body.get("task"))

    async def read_task(self, project_id: str, task_id: str) -> ZohoTask | None:
        """A task to show. With the read cache on, a task kept fresh (its own read, or
        held from its project's list) costs no call; else the project's task list is read
        in its place: the same one call, and it answers the project's other tasks too
        (kept as their own reads), so the tasks a dashboard shows cost Zoho one call per
        project and window, not one per task. A task the list does not show (past its
        pages) is read by id; a read that decides a write, or that a client wants
        fresh, is the task's own."""
        if self.upstream.cache is None or not may_answer_from_kept():
            return await self.get_task(project_id, task_id)
        item = _task_item(project_id, task_id)
        headers = self._headers(await self.auth.token())
        path = _task_path(project_id, task_id)
        kept = await self.upstream.kept("GET", path, item=item, headers=headers)
        if kept is not None:
            return self._task(checked(kept, what="project task").get("task"))
        tasks = await self.list_project_tasks(project_id)
        if tasks is None:
            return None  # no such project, so no such task
        for task in good(tasks):
            if task.id == task_id:
                return task
        return await self.get_task(project_id, task_id)

    async def create_task(self, project_id: str, changes: TaskChanges) -> ZohoTask:
        body = await self._call(
            "POST", f"projects/{project_id}/tasks", what="project", json=task_body(changes)
        )
        data = body.get("task")
        # The add response omits description, rate and budget [doc]: what was
        # written is what Zoho stored, so the payload shows it.
        return fill_unechoed(self._task(data), data, written_fields(changes))

    async def update_task(self, project_id: str, task_id: str, changes: TaskChanges) -> ZohoTask:
        current: ZohoTask | None = None
        if changes.name is None:
            # Zoho requires task_name on every update, so a change that leaves the
            # name alone resends the current one.
            current = await self.get_task(project_id, task_id)
            if current is None:
                raise NotFound(f"{ZOHO.label}: no such project task", vendor=ZOHO)
            changes = TaskChanges(
                name=current.name,
                description=changes.description,
                rate=changes.rate,
                budget_hours=changes.budget_hours,
            )
        body = await self._call(
            "PUT",
            _task_path(project_id, task_id),
            what="project task",
            json=task_body(changes),
            item=_task_item(project_id, task_id),
        )
        data = body.get("task")
        written = written_fields(changes)
        task = fill_unechoed(self._task(data), data, written)
        unknown = {name for name in unechoed(data) if written[name] is None}
        if unknown and current is None:
            # Fields neither echoed nor written kept their values: read back once.
            current = await self.get_task(project_id, task_id)
        if current is not None:
            task = fill_unechoed(task, data, written, known_fields(current))
        return task

    async def delete_task(self, project_id: str, task_id: str) -> None:
        await self._call(
            "DELETE",
            _task_path(project_id, task_id),
            what="project task",
            item=_task_item(project_id, task_id),
        )


def _task_path(project_id: str, task_id: str) -> str:
    return f"projects/{project_id}/tasks/{task_id}"


def _task_item(project_id: str, task_id: str) -> str:
    """How a task is named to the read cache: as its global id names it."""
    return item_named(PROJECT_TASK_TYPE, f"{project_id}/{task_id}")


def work_record(task: ZohoTask) -> WorkRecord:
    # Zoho project tasks carry no dates and no completion state.
    return WorkRecord(
        vendor=ZOHO,
        key=f"{task.project_id}/{task.id}",
        title=task.name,
        completed=False,
        due_at=None,
        created_at=None,
        updated_at=None,
        completed_at=None,
        url=task.url,
        item=task,
        text=task.description or "",
    )
