"""The client gate of `/graphql`: who the client is, and whether it has
requests left this minute. Both are decided from the headers, before anything
is parsed, so a refused request costs next to nothing.

The client (a :class:`Principal`) is left on the request's state for the
GraphQL layer, which checks each field's vendor and access against its scopes.
With authentication on, the only request let in without one is a visit to the
explorer page (gateway.http.media_types.is_explorer_page), which runs nothing; the
view refuses to run an operation for a request that has no principal.
"""

from __future__ import annotations

from starlette.types import Scope

from gateway.auth.authenticator import Authenticator
from gateway.core.errors import ClientRateLimited, Unauthenticated
from gateway.core.principal import Principal, unauthenticated_client
from gateway.core.ratelimit import CallBudget, retry_after
from gateway.http.media_types import is_explorer_page_request
from gateway.observability.scope import RequestState


class ClientGate:
    """Who the client is and whether it may send this request, asked by the GraphQL
    endpoint's layer (gateway.http.entry) before the view runs."""

    def __init__(
        self,
        *,
        authenticator: Authenticator | None,
        requests: CallBudget | None,
        graphiql: bool,
    ) -> None:
        self.authenticator = authenticator
        self.requests = requests
        self.graphiql = graphiql

    async def admit(self, scope: Scope, state: RequestState) -> None:
        """Leaves the client on ``state``, or raises the refusal to answer with."""
        principal = await self._principal(scope, state)
        if principal is not None and self.requests is not None:
            await self._spend_request(principal)
        state.principal = principal

    async def _principal(self, scope: Scope, state: RequestState) -> Principal | None:
        if self.authenticator is None:
            client = scope.get("client")
            return unauthenticated_client(client[0] if client else "unknown")
        try:
            return await self.authenticator.authenticate(state.headers)
        except Unauthenticated:
            if self.graphiql and is_explorer_page_request(scope):
                return None  # the page holds no data; its queries must authenticate
            raise

    async def _spend_request(self, principal: Principal) -> None:
        assert self.requests is not None
        wait = await self.requests.limiter.acquire(principal.key, self.requests.quotas)
        if wait is not None:
            limit = self.requests.quotas[0].describe()
            raise ClientRateLimited(
                f"Too many requests from this client (at most {limit}); retry later.",
                retry_after=retry_after(wait),
            )
