"""The per-request scope: the request id, the app's telemetry and what the operation was.

The scope travels in a context variable, which asyncio copies into every task a
request spawns (resolvers, upstream exchanges, token grants), so the upstream
layer and the log formatter find the request they work for without a parameter.
The scope object itself is shared by reference, so what a resolver's task records
on it (the execution context) is seen by the view that answers.
"""

from __future__ import annotations

import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
# Bounded and plain: the id goes into log lines, span attributes and a response
# header, so it must not carry quotes, spaces, control characters or a novel.
MAX_REQUEST_ID_LENGTH = 128
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@=+/-]{1,%d}" % MAX_REQUEST_ID_LENGTH)


def new_request_id() -> str:
    return os.urandom(16).hex()


def accepted_request_id(value: bytes | None) -> str | None:
    """A client's ``X-Request-Id`` when it is safe to repeat, else None (one is generated)."""
    if value is None or _SAFE_REQUEST_ID.fullmatch(value) is None:
        return None
    return value.decode("ascii")


@dataclass(eq=False)
class RequestScope:
    request_id: str
    # The app's gateway.observability.telemetry.Telemetry, which reads this scope (so
    # it is not imported here); current_telemetry() gives it back typed.
    telemetry: object | None
    started: float = field(default_factory=time.perf_counter)
    # strawberry's ExecutionContext of the operation, once one runs (gateway.api.schema).
    execution: Any = None
    # Set by the GraphQL view: ok, partial, error, rejected or disconnected.
    outcome: str | None = None
    error_codes: tuple[str, ...] = ()


current_request: ContextVar[RequestScope | None] = ContextVar("current_request", default=None)


def current_request_id() -> str | None:
    scope = current_request.get()
    return scope.request_id if scope is not None else None


class RequestScopes:
    """ASGI wrapper: a scope per HTTP request, its id echoed in ``X-Request-Id``."""

    def __init__(self, app: ASGIApp, telemetry: object | None) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = None
        for name, value in scope["headers"]:
            if name == _REQUEST_ID_HEADER_BYTES:
                given = value
                break
        request_id = accepted_request_id(given) or new_request_id()
        echoed = (_REQUEST_ID_HEADER_BYTES, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), echoed]
            await send(message)

        token = current_request.set(RequestScope(request_id, self.telemetry))
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request.reset(token)
