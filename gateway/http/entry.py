"""`/graphql`'s one ASGI layer: what every other route gets from the front layers
(gateway/http/app.py) and the client gate, in the same order, run by one callable.

A layer per concern costs a call, a closure around ``send`` and a look-up of the
request's state each, per request; the GraphQL endpoint is the one path where that
is worth saving. The rules stay where they are written, as plain calls:

1. the request's state and id (gateway.observability.scope.open_request);
2. CORS: a preflight answered, the CORS headers on every other answer
   (gateway.http.cors.GatewayCors), masked failures included;
3. the error boundary: anything raised before the answer began becomes a masked
   500 (gateway.api.errors.masked_failure);
4. the method and CSRF rules, then the body, read whole within its size and time
   limits (gateway.http.guard.RequestRules);
5. the client and its requests a minute (gateway.http.gate.ClientGate);
6. the GraphQL view, given the body in one message.

WebSockets go straight to the view, which authenticates their ``connection_init``.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.api.errors import masked_failure, refusal_response
from gateway.core.errors import RequestRefused
from gateway.http.cors import GatewayCors
from gateway.http.gate import ClientGate
from gateway.http.guard import ClientGone, RequestRules, replay
from gateway.observability.scope import RequestState, current_request, open_request


class GraphQLEntry:
    def __init__(
        self,
        view: ASGIApp,
        *,
        telemetry: object | None,
        cors: GatewayCors,
        rules: RequestRules,
        gate: ClientGate,
    ) -> None:
        self.view = view
        self.telemetry = telemetry
        self.cors = cors
        self.rules = rules
        self.gate = gate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.view(scope, receive, send)
            return
        state, send = open_request(scope, self.telemetry, send)
        token = current_request.set(state)
        try:
            if self.cors.applies(scope):
                preflight = self.cors.preflight(scope, state.headers)
                if preflight is not None:
                    await preflight(scope, receive, send)
                    return
                send = self.cors.sending(send, state.headers)
            try:
                await self._admitted(scope, receive, send, state)
            except Exception:
                if state.answering:
                    raise
                await masked_failure(scope)(scope, receive, send)
        finally:
            current_request.reset(token)

    async def _admitted(
        self, scope: Scope, receive: Receive, send: Send, state: RequestState
    ) -> None:
        """The view, for a request the guard and the gate let through."""
        try:
            self.rules.check_graphql(scope, state.headers)
            body = await self.rules.read_body(state.headers, receive)
            await self.gate.admit(scope, state)
        except RequestRefused as refusal:
            await refusal_response(refusal)(scope, receive, send)
            return
        except ClientGone:
            return
        await self.view(scope, replay(body, receive), send)
