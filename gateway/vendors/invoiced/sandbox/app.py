"""The Invoiced sandbox's routes: auth, paging, sorting, filters, idempotency replay."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.core.sandbox import Clock, Quota, json_response, resolve_quota

from . import admin, webhooks
from .store import SANDBOX_USER_ID, ApiError, Store, seed

API_KEY = "sandbox_invoiced_key"
ACTIONS = {"phone", "letter", "email", "review", "approve_bill", "approve_vendor_credit"}
FILTERABLE = {
    "action", "complete", "completed_date", "created_at", "due_date",
    "id", "name", "updated_at", "customer_id", "user_id",
}  # fmt: skip
SORTABLE = FILTERABLE | {"completed_by_user_id", "chase_step_id"}
MAX_CONCURRENT = 20
QUOTA_ENV = "INVOICED_SANDBOX_QUOTA"
IDEMPOTENCY_TTL = 24 * 3600


def _authenticate(request: Request) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    try:
        username = base64.b64decode(encoded).decode().partition(":")[0]
    except (binascii.Error, UnicodeDecodeError):
        username = ""
    if scheme.lower() != "basic" or username != API_KEY:
        raise ApiError(401, "The API key provided is invalid. Check your credentials.")


async def _read_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").startswith("application/json"):
        raw = await request.body()
        try:
            body = orjson.loads(raw) if raw else {}
        except orjson.JSONDecodeError as exc:
            raise ApiError(400, "Request body is not valid JSON.") from exc
        if not isinstance(body, dict):
            raise ApiError(400, "Request body must be an object.")
        return body
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


def _as_int(body: dict[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ApiError(400, f"{key} must be an integer", key)
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, f"{key} must be an integer", key) from exc


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).lower() in {"1", "true", "yes"}


def _apply(store: Store, task: dict[str, Any], body: dict[str, Any], creating: bool) -> None:
    if creating:
        for required in ("name", "action", "due_date"):
            if body.get(required) in (None, ""):
                raise ApiError(400, f"{required} is missing", required)
    if "name" in body:
        name = str(body["name"]).strip()
        if not name:
            raise ApiError(400, "name cannot be blank", "name")
        task["name"] = name
    if "action" in body:
        if body["action"] not in ACTIONS:
            raise ApiError(400, "action must be one of: " + ", ".join(sorted(ACTIONS)), "action")
        task["action"] = body["action"]
    for key in ("customer_id", "user_id", "due_date"):
        if key in body:
            task[key] = _as_int(body, key)
    customer_id = task.get("customer_id")
    if customer_id is not None and customer_id not in store.customers:
        raise ApiError(400, "No such customer", "customer_id")
    if "complete" in body:
        complete = _as_bool(body["complete"])
        # Completing stamps completed_date [doc]; reopening is not documented to
        # clear it, and a server built from the docs keeps the old stamp, so the
        # sandbox does too. [guess]
        if complete and not task.get("complete"):
            task["completed_date"] = int(store.clock.now())
            task["completed_by_user_id"] = SANDBOX_USER_ID
        task["complete"] = complete


def _list(request: Request, tasks: list[dict[str, Any]]) -> Response:
    params = request.query_params
    try:
        page = max(1, int(params.get("page", "1")))
        per_page = min(100, max(1, int(params.get("per_page", "100"))))
    except ValueError as exc:
        raise ApiError(400, "page and per_page must be integers") from exc
    for key, value in params.items():
        if key.startswith("filter[") and key.endswith("]"):
            name = key[7:-1]
            if name not in FILTERABLE:
                raise ApiError(400, f"Invalid filter parameter: {name}", "filter")
            tasks = [t for t in tasks if _matches(t.get(name), value)]
    for clause in reversed([c for c in params.get("sort", "id asc").split(",") if c.strip()]):
        name, _, direction = clause.strip().partition(" ")
        if name not in SORTABLE or direction.strip().lower() not in ("", "asc", "desc"):
            raise ApiError(400, f"Invalid sort parameter: {clause.strip()}", "sort")
        tasks.sort(key=_sort_key(name), reverse=direction.strip().lower() == "desc")
    total = len(tasks)
    last = max(1, -(-total // per_page))
    start = (page - 1) * per_page
    headers = {"X-Total-Count": str(total), "Link": _links(request, page, last)}
    return json_response(tasks[start : start + per_page], 200, headers)


def _sort_key(name: str) -> Callable[[dict[str, Any]], tuple[bool, Any]]:
    # Nulls last, and never compared with values.
    def key(task: dict[str, Any]) -> tuple[bool, Any]:
        value = task.get(name)
        return (value is None, value if value is not None else 0)

    return key


def _matches(stored: Any, wanted: str) -> bool:
    if isinstance(stored, bool):
        return stored == _as_bool(wanted)
    return str(stored) == wanted


def _links(request: Request, page: int, last: int) -> str:
    def url(number: int) -> str:
        query = dict(request.query_params)
        query["page"] = str(number)
        return f"{request.url.replace(query=urlencode(sorted(query.items())))}"

    rels = [("self", page), ("first", 1)]
    if page > 1:
        rels.append(("previous", min(page - 1, last)))
    if page < last:
        rels.append(("next", page + 1))
    rels.append(("last", last))
    return ", ".join(f'<{url(number)}>; rel="{rel}"' for rel, number in rels)


Handler = Callable[[Request], Awaitable[Response]]


class _Api:
    """The sandbox's handlers, over one store."""

    def __init__(self, store: Store, max_concurrent: int | None) -> None:
        self.store = store
        # None: the quota is off (INVOICED_SANDBOX_QUOTA=off), any number of calls at once.
        self.max_concurrent = max_concurrent

    def endpoint(self, handler: Handler) -> Handler:
        store = self.store

        async def run(request: Request) -> Response:
            # Counted per key as Invoiced documents, keyed on the raw credential so that
            # calls with a wrong key are counted too, before they are refused. [guess]
            key = request.headers.get("authorization", "")
            limit = self.max_concurrent
            if limit is not None and store.in_flight.get(key, 0) >= limit:
                return ApiError(429, "Too many concurrent requests for this API key.").response()
            store.in_flight[key] = store.in_flight.get(key, 0) + 1
            try:
                _authenticate(request)
                return await self._idempotent(request, handler)
            except ApiError as error:
                return error.response()
            finally:
                store.in_flight[key] -= 1

        return run

    async def _idempotent(self, request: Request, handler: Handler) -> Response:
        key = request.headers.get("idempotency-key")
        if not key or request.method not in ("POST", "PATCH"):
            return await handler(request)
        if not 6 <= len(key) <= 64:
            raise ApiError(400, "Idempotency-Key must be 6 to 64 characters", "Idempotency-Key")
        slot = (key, f"{request.method} {request.url.path}")
        now = self.store.clock.now()
        stored = self.store.replays.get(slot)
        if stored and stored[0] > now:
            return stored[1]
        response = await handler(request)
        if response.status_code < 500:
            self.store.replays[slot] = (now + IDEMPOTENCY_TTL, response)
        return response

    def _find(self, request: Request) -> dict[str, Any]:
        raw = request.path_params["task_id"]
        task = self.store.tasks.get(int(raw)) if raw.isdigit() else None
        if task is None:
            raise ApiError(404, f"No such task: {raw}", "id")
        return task

    async def list_tasks(self, request: Request) -> Response:
        return _list(request, list(self.store.tasks.values()))

    async def customer_tasks(self, request: Request) -> Response:
        customer_id = request.path_params["customer_id"]
        if not customer_id.isdigit() or int(customer_id) not in self.store.customers:
            raise ApiError(404, f"No such customer: {customer_id}", "id")
        owned = [t for t in self.store.tasks.values() if t["customer_id"] == int(customer_id)]
        return _list(request, owned)

    async def create_task(self, request: Request) -> Response:
        store = self.store
        body = await _read_body(request)
        task = store.blank_task()
        _apply(store, task, body, creating=True)
        task["id"] = store.new_id()
        store.tasks[task["id"]] = task
        store.changed("task.created", task)
        return json_response(task, 201)

    async def retrieve_task(self, request: Request) -> Response:
        return json_response(self._find(request))

    async def update_task(self, request: Request) -> Response:
        task = self._find(request)
        body = await _read_body(request)
        draft = dict(task)
        _apply(self.store, draft, body, creating=False)  # validate fully before writing
        draft["updated_at"] = int(self.store.clock.now())
        task.update(draft)
        self.store.changed("task.updated", task)
        return json_response(task)

    async def delete_task(self, request: Request) -> Response:
        task = self._find(request)
        del self.store.tasks[task["id"]]
        self.store.changed("task.deleted", task)
        return Response(status_code=204)

    async def list_customers(self, request: Request) -> Response:
        customers = self.store.customers
        return json_response(list(customers.values()), 200, {
            "X-Total-Count": str(len(customers)), "Link": _links(request, 1, 1),
        })  # fmt: skip


def create_app(
    *,
    clock: Clock | None = None,
    quotas: Quota = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
) -> Starlette:
    """A fresh, seeded sandbox. ``quotas`` sets the concurrent requests per key (see
    ``resolve_quota``): None reads ``INVOICED_SANDBOX_QUOTA``, on at 20 unless set.
    ``webhook_url`` (else ``INVOICED_SANDBOX_WEBHOOK_URL``) receives a signed event for
    every task written, signed with ``webhook_secret`` (else
    ``INVOICED_SANDBOX_WEBHOOK_SECRET``, else the demo's); ``app.state.webhooks``."""
    store = Store(clock or Clock())
    seed(store)
    sender = webhooks.from_env(store.clock, webhook_url, webhook_secret)
    if sender is not None:
        store.on_change = sender.task_changed
    api = _Api(store, resolve_quota(quotas, QUOTA_ENV, MAX_CONCURRENT))
    changes = admin.changes(store, _apply)
    endpoint = api.endpoint
    app = Starlette(
        routes=[
            Route("/tasks", endpoint(api.list_tasks), methods=["GET"]),
            Route("/tasks", endpoint(api.create_task), methods=["POST"]),
            Route("/tasks/{task_id}", endpoint(api.retrieve_task), methods=["GET"]),
            Route("/tasks/{task_id}", endpoint(api.update_task), methods=["PATCH"]),
            Route("/tasks/{task_id}", endpoint(api.delete_task), methods=["DELETE"]),
            Route("/customers", endpoint(api.list_customers), methods=["GET"]),
            Route("/customers/{customer_id}/tasks", endpoint(api.customer_tasks), methods=["GET"]),
            *changes.routes(),
        ]
    )
    app.state.store = store
    app.state.changes = changes
    app.state.clock = store.clock
    app.state.webhooks = sender
    return app
