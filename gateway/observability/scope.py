"""The per-request state: one object for everything a request carries through the
layers, and the one context variable that carries it below the GraphQL layer.

:class:`RequestScopes`, in front of the app, makes a :class:`RequestState` per HTTP
request and hands it on two ways, each layer reading it one way: the HTTP layer
from the ASGI scope (:func:`request_state`), the GraphQL layer from its context
(``Context.state``), and the layers below from :data:`current_request`.
"""

from __future__ import annotations

import os
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:
    from gateway.core.principal import Principal
    from gateway.core.types import Vendor

REQUEST_ID_HEADER = "x-request-id"
_REQUEST_ID_HEADER_BYTES = REQUEST_ID_HEADER.encode()
# Bounded and plain: the id goes into log lines, span attributes and a response
# header, so it must not carry quotes, spaces, control characters or a novel.
MAX_REQUEST_ID_LENGTH = 128
_SAFE_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:@=+/-]{1,%d}" % MAX_REQUEST_ID_LENGTH)
# Where the state rides in the ASGI scope, for the HTTP layer.
STATE_KEY = "gateway.request"


def new_request_id() -> str:
    return os.urandom(16).hex()


def accepted_request_id(value: bytes | None) -> str | None:
    """A client's ``X-Request-Id`` when it is safe to repeat, else None (one is generated)."""
    if value is None or _SAFE_REQUEST_ID.fullmatch(value) is None:
        return None
    return value.decode("ascii")


@dataclass(frozen=True, slots=True)
class UpstreamCall:
    vendor: Vendor
    method: str
    path: str
    status: int | None
    duration_ms: float
    # When the call was sent, in ms since its request's call log began (a waterfall's x).
    start_ms: float = 0.0
    # A credential grant (an OAuth token request): a POST that changes no vendor data.
    grant: bool = False
    # A read that joined an identical one already in flight (GATEWAY_COLLAPSE_READS):
    # recorded for the waterfall, but no call of its own reached the vendor.
    collapsed: bool = False


@dataclass(slots=True)
class CallLog:
    """The upstream calls made on behalf of one request."""

    calls: list[UpstreamCall] = field(default_factory=list)
    started: float = field(default_factory=time.perf_counter)

    @property
    def made(self) -> int:
        """The calls that reached the vendor: collapsed reads cost none."""
        return sum(not call.collapsed for call in self.calls)


@dataclass(frozen=True, slots=True)
class VendorFreshness:
    """How old one vendor's part of an answer may be: the age of the oldest of its reads,
    the seconds left of the freshest-ending one's fresh window, and whether any was
    past its fresh window (answered while refreshed, or standing in for a failure)."""

    age: float
    fresh_for: float
    stale: bool


@dataclass(slots=True)
class OperationReads:
    """The freshness of the vendor reads one operation made, per vendor."""

    vendors: dict[Vendor, VendorFreshness] = field(default_factory=dict)

    def note(self, vendor: Vendor, *, age: float, fresh_for: float, stale: bool) -> None:
        seen = self.vendors.get(vendor)
        if seen is not None:
            age, fresh_for = max(age, seen.age), min(fresh_for, seen.fresh_for)
            stale = stale or seen.stale
        self.vendors[vendor] = VendorFreshness(age, fresh_for, stale)

    @property
    def max_age(self) -> float:
        """Seconds the whole answer stays fresh: its first vendor part to go stale."""
        return min((part.fresh_for for part in self.vendors.values()), default=0.0)

    @property
    def age(self) -> float:
        return max((part.age for part in self.vendors.values()), default=0.0)

    def report(self) -> dict[str, dict[str, int | bool]]:
        """The ``freshness`` response extension: per vendor (its GraphQL ``Vendor`` name),
        the age in whole seconds and whether it was past its fresh window."""
        return {
            vendor.value.upper(): {"age": int(part.age), "stale": part.stale}
            for vendor, part in self.vendors.items()
        }


@dataclass(eq=False, slots=True)
class RequestState:
    request_id: str
    # The app's gateway.observability.telemetry.Telemetry, which reads this state (so
    # it is not imported here); current_telemetry() gives it back typed.
    telemetry: object | None
    # The request's headers, read once for every layer that looks at them.
    headers: Headers
    started: float = field(default_factory=time.perf_counter)
    calls: CallLog = field(default_factory=CallLog)
    reads: OperationReads = field(default_factory=OperationReads)
    # The client, once the client gate has admitted it (None: not yet, or the explorer page).
    principal: Principal | None = None
    # The media type of the answer, negotiated by the GraphQL view (gateway.http.media_types).
    media_type: str = "application/json"
    # strawberry's ExecutionContext of the operation, once one runs (gateway.api.schema).
    execution: Any = None
    # Set by the GraphQL view: ok, partial, error, rejected or disconnected.
    outcome: str | None = None
    error_codes: tuple[str, ...] = ()
    # Whether the answer has begun (its status and headers sent): then a failure can
    # only end the connection, no longer be answered.
    answering: bool = False


# Adapters, the upstream seam and the log formatter are shared by every request and
# called with no request in their arguments; asyncio copies this variable into every
# task a request spawns (resolvers, upstream exchanges, token grants), so they find
# the request they work for. The state itself is shared by reference, so what one
# task records on it is seen by the view that answers.
current_request: ContextVar[RequestState | None] = ContextVar("current_request", default=None)


def current_request_id() -> str | None:
    state = current_request.get()
    return state.request_id if state is not None else None


def request_state(scope: Scope) -> RequestState:
    """The state :class:`RequestScopes` made for this HTTP request."""
    state: RequestState = scope[STATE_KEY]
    return state


def open_request(scope: Scope, telemetry: object | None, send: Send) -> tuple[RequestState, Send]:
    """A new HTTP request's state, left in its scope, and ``send`` echoing its id in
    ``X-Request-Id``."""
    headers = Headers(scope=scope)
    given = headers.get(REQUEST_ID_HEADER)
    request_id = accepted_request_id(given.encode("latin-1") if given else None)
    request_id = request_id or new_request_id()
    echoed = (_REQUEST_ID_HEADER_BYTES, request_id.encode("ascii"))

    async def send_with_id(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", ()), echoed]
            state.answering = True
        await send(message)

    state = RequestState(request_id, telemetry, headers)
    scope[STATE_KEY] = state
    return state, send_with_id


class RequestScopes:
    """ASGI wrapper: a state per HTTP request, its id echoed in ``X-Request-Id``."""

    def __init__(self, app: ASGIApp, telemetry: object | None) -> None:
        self.app = app
        self.telemetry = telemetry

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state, send_with_id = open_request(scope, self.telemetry, send)
        token = current_request.set(state)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request.reset(token)
