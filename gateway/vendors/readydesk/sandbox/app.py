"""The single ASP.NET page, /API/default.aspx, that every ReadyDesk action goes through."""

from __future__ import annotations

import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.core.sandbox import Clock

from . import admin
from .query import select_invoices, select_line_items
from .store import Store, seed_store
from .variables import Params, QueryError
from .wire import (
    COUNT_SHAPES,
    FORMATS,
    INVOICES,
    LINE_ITEM_NAMES,
    LINE_ITEMS,
    Format,
    LineItemNames,
    invoice_record,
    line_item_record,
    render_records,
    render_single,
)

API_KEY = "readydesk-sandbox-demo-key"
ENDPOINT = "/API/default.aspx"
# [guess] A hand-written .aspx response keeps the page default content type, so
# clients have to recognise the format from the body, as VENDORS.md advises.
MEDIA_TYPE = "text/html"
LINE_ITEM_NAMES_ENV = "READYDESK_SANDBOX_LINE_ITEM_NAMES"


@dataclass(frozen=True, slots=True)
class Options:
    """How this sandbox writes what the docs leave open; tests switch them on app.state."""

    count_shape: str
    line_item_names: LineItemNames


def get_invoices(store: Store, params: Params, fmt: Format, options: Options) -> str:
    selection = select_invoices(store, params)
    if selection.count_only:
        return COUNT_SHAPES[options.count_shape](fmt, str(selection.total))
    by_uid = {item.uid: item for item in store.line_items} if selection.include_line_items else {}
    records = [
        invoice_record(
            invoice,
            store.zone,
            [by_uid[uid] for uid in invoice.jobs] if selection.include_line_items else None,
            options.line_item_names,
        )
        for invoice in selection.invoices
    ]
    return render_records(fmt, INVOICES, records)


def get_line_items(store: Store, params: Params, fmt: Format, options: Options) -> str:
    records = [
        line_item_record(item, store.zone, options.line_item_names)
        for item in select_line_items(store, params)
    ]
    return render_records(fmt, LINE_ITEMS, records)


ACTIONS: dict[str, Callable[[Store, Params, Format, Options], str]] = {
    "get_invoices": get_invoices,
    "get_line_items": get_line_items,
}


async def _read_params(request: Request) -> dict[str, str]:
    # ASP.NET's Request[name]: names ignore case, the query string wins over the
    # form, and an empty value counts as absent (the product tests for "").
    params: dict[str, str] = {}
    for name, value in request.query_params.multi_items():
        if value != "":
            params.setdefault(name.lower(), value)
    if request.method == "POST":
        form = await request.form()
        for name, field in form.multi_items():
            if isinstance(field, str) and field != "":
                params.setdefault(name.lower(), field)
    return params


async def default_aspx(request: Request) -> Response:
    params = await _read_params(request)
    fmt = FORMATS.get(params.get("output", "xml").strip().lower())
    if fmt is None:
        return _reply(render_single("xml", "error", "Invalid output: use xml, json or url"))
    store: Store = request.app.state.store
    try:
        key = params.get("key", "").encode()
        if not hmac.compare_digest(key, API_KEY.encode()):
            raise QueryError("Invalid API key")
        action = ACTIONS.get(params.get("action", "").strip())
        if action is None:
            raise QueryError("Invalid action")
        state = request.app.state
        body = action(store, params, fmt, Options(state.count_shape, state.line_item_names))
    except QueryError as error:
        body = render_single(fmt, "error", str(error))
    # Errors included: the product always answers 200 and puts failures in the body.
    return _reply(body)


def _names_from_env() -> LineItemNames:
    wanted = os.environ.get(LINE_ITEM_NAMES_ENV, "").strip().lower() or "listing"
    for names in LINE_ITEM_NAMES:
        if names == wanted:
            return names
    raise ValueError(f"{LINE_ITEM_NAMES_ENV} must be one of {', '.join(LINE_ITEM_NAMES)}")


def _reply(body: str) -> Response:
    return Response(body, media_type=MEDIA_TYPE)


def create_app(
    *, clock: Clock | None = None, line_item_names: LineItemNames | None = None
) -> Starlette:
    """``line_item_names`` (else ``READYDESK_SANDBOX_LINE_ITEM_NAMES``, else
    ``listing``) picks the field names line items are written with (see LineItemNames)."""
    clock = clock or Clock()
    store = seed_store()
    # ReadyDesk documents no call limit, so this sandbox has no quota to enforce.
    changes = admin.changes(store, clock)
    app = Starlette(
        routes=[Route(ENDPOINT, default_aspx, methods=["GET", "POST"]), *changes.routes()]
    )
    app.state.store = store
    app.state.changes = changes
    # Which of COUNT_SHAPES answers count_only=Y; tests switch it.
    app.state.count_shape = "response"
    app.state.line_item_names = line_item_names or _names_from_env()
    # No write action (add_invoice, ...) is emulated yet; when one is, it stamps
    # invoice_date with this clock, which tests can move.
    app.state.clock = clock
    return app
