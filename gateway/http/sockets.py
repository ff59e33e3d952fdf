"""GraphQL over WebSocket (graphql-transport-ws) for subscriptions: who the client is.

The client gate passes WebSockets through (it answers HTTP only): a connection is
nobody until its ``connection_init`` proves a client, with the credential as a
header would carry it (``{"X-API-Key": ...}`` or ``{"Authorization": "Bearer ..."}``)
or in the upgrade request's own headers. None, or one not accepted, and the
connection is closed (4403) before any operation runs."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass

import orjson
from starlette.datastructures import Headers
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.exceptions import WebSocketDisconnected

from gateway.adapters import Adapters
from gateway.api.context import Context, Loaders
from gateway.api.writes import Idempotency
from gateway.auth.authenticator import Authenticator
from gateway.core.errors import Unauthenticated
from gateway.core.principal import ClientAccess, Principal, unauthenticated_client
from gateway.observability.scope import RequestState
from gateway.state.changes import ChangeBus

# The client of a WebSocket before it authenticates: no scopes, so nothing to read.
NOBODY = Principal("unauthenticated", frozenset())


class TextFrames(ASGIWebSocketAdapter):
    """Every message in a text frame, as graphql-transport-ws says: the view's JSON is
    bytes (orjson, for HTTP), which strawberry would send as binary frames, and the
    graphql-ws client reads a binary frame as a message with no ``type``."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(orjson.dumps(message).decode())
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


@dataclass(frozen=True)
class SocketClients:
    adapters: Adapters
    idempotency: Idempotency
    changes: ChangeBus | None
    authenticator: Authenticator | None
    introspection: bool

    async def connect(self, context: Context) -> None:
        """The connection's client, from its connection_init payload or its headers."""
        params = context.connection_params or {}
        headers = {**context.state.headers}
        headers.update({k.lower(): v for k, v in params.items() if isinstance(v, str)})
        if self.authenticator is None:
            return  # authentication off: the client was known from its address
        try:
            principal = await self.authenticator.authenticate(headers)
        except Unauthenticated as exc:
            raise ConnectionRejectionError() from exc
        context.state.principal = principal
        context.access = ClientAccess(principal=principal, introspection=self.introspection)


def socket_context(clients: SocketClients, socket: WebSocket) -> Context:
    """A WebSocket's context: nobody until its connection_init proves a client."""
    state = RequestState(
        request_id=uuid.uuid4().hex, telemetry=None, headers=Headers(scope=socket.scope)
    )
    principal = NOBODY
    if clients.authenticator is None:
        principal = unauthenticated_client(socket.client.host if socket.client else "unknown")
    return Context(
        request=None,
        adapters=clients.adapters,
        loaders=Loaders(clients.adapters),
        state=state,
        idempotency=clients.idempotency,
        access=ClientAccess(principal=principal, introspection=clients.introspection),
        changes=clients.changes,
    )
