"""The Starlette application: `/graphql` (POST, GET for queries, GraphiQL), `/healthz`,
`/readyz`, and GraphiQL's assets under `/graphiql/`.

Every request but `/graphql`'s passes the front layers, outermost first: its request
id and telemetry scope, CORS, the error boundary, the HTTP guard; then the router. A
`/graphql` request meets the same rules, and the client gate, in one layer of its own
(gateway.http.entry), then the GraphQL view.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.adapters import Adapters, Transports
from gateway.api.errors import MaskedFailures
from gateway.auth.protection import ClientProtection
from gateway.config import Settings
from gateway.http.cors import AllowedOrigins, GatewayCors
from gateway.http.entry import GraphQLEntry
from gateway.http.explorer import explorer_routes
from gateway.http.gate import ClientGate
from gateway.http.guard import GRAPHQL_METHODS, HttpGuard, RequestRules, is_graphql_path
from gateway.http.observability import Observability
from gateway.http.pollers import open_pollers
from gateway.http.readiness import Readiness
from gateway.http.view import GatewayGraphQL
from gateway.http.webhooks import webhook_routes
from gateway.observability.scope import RequestScopes
from gateway.state.changes import ChangeBus, ChangeRelay, open_change_bus
from gateway.state.polling import Pollers

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

Lifespan = Callable[[Starlette], AbstractAsyncContextManager[None]]


class GatewayApp(Starlette):
    """Starlette, behind the front layers, with `/graphql` (the hot path) sent
    straight to ``graphql``, its one layer (gateway.http.entry), which applies the
    same rules as the front layers: the router, Starlette's error and exception
    middleware and a layer per concern cost a good part of a request's CPU."""

    def __init__(
        self,
        *,
        graphql: ASGIApp,
        front: Sequence[Middleware],
        routes: Sequence[BaseRoute],
        lifespan: Lifespan,
    ) -> None:
        super().__init__(routes=routes, lifespan=lifespan)
        self.graphql = graphql
        app: ASGIApp = super().__call__
        for cls, args, kwargs in reversed(front):
            app = cls(app, *args, **kwargs)
        self.layered = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # WebSockets too: subscriptions (graphql-transport-ws); they authenticate in
        # their connection_init (gateway.http.view), past the client gate.
        if scope["type"] in ("http", "websocket") and is_graphql_path(scope):
            scope["app"] = self
            await self.graphql(scope, receive, send)
            return
        await self.layered(scope, receive, send)


def create_app(
    settings: Settings | None = None,
    *,
    transports: Transports | None = None,
    extra_routes: list[BaseRoute] | None = None,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    """The gateway app. ``transports`` lets tests and the demo reach sandboxes in-process;
    ``tracer_provider`` replaces the one the OTEL_* environment describes (if any)."""
    settings = settings or Settings()
    adapters = Adapters(settings, transports)
    observing = Observability(settings.gateway, adapters, tracer_provider)
    readiness = Readiness(
        adapters, ttl=settings.gateway.ready_cache, timeout=settings.gateway.ready_timeout
    )
    changes, relay = open_change_bus(settings.gateway)
    pollers = open_pollers(settings, adapters, changes)
    # Adapters that keep something of their own (Fakturoid's by-id index) drop it too.
    changes.watch(adapters.item_changed)
    if adapters.read_cache is not None:
        # A change learnt of any way (a write, a webhook, a poller) drops that vendor's reads.
        read_cache = adapters.read_cache
        changes.watch(
            lambda event, relayed: read_cache.changed(event.vendor, event.id, relayed=relayed)
        )
    app = GatewayApp(
        graphql=_graphql_entry(settings, adapters, observing, changes),
        front=_front(settings, observing),
        routes=[
            *_health_routes(adapters, readiness),
            *explorer_routes(),
            *observing.routes(),
            *webhook_routes(settings, adapters.store, changes),
            *(extra_routes or []),
        ],
        lifespan=_lifespan(adapters, observing, relay, pollers),
    )
    app.state.pollers = pollers
    app.state.changes = changes
    app.state.adapters = adapters
    app.state.readiness = readiness
    app.state.telemetry = observing.telemetry
    return app


def _graphql_entry(
    settings: Settings, adapters: Adapters, observing: Observability, changes: ChangeBus
) -> ASGIApp:
    """The GraphQL view behind its one layer: the front layers' rules and the client gate."""
    protection = ClientProtection.from_settings(settings, adapters.limiter)
    view = GatewayGraphQL(adapters, settings, observing.telemetry, protection, changes)
    return GraphQLEntry(
        view,
        telemetry=observing.telemetry,
        cors=GatewayCors(view, **_cors(settings)),
        rules=_rules(settings),
        gate=ClientGate(
            authenticator=protection.authenticator,
            requests=protection.requests,
            graphiql=protection.graphiql,
        ),
    )


def _cors(settings: Settings) -> dict[str, Any]:
    return {
        "origins": AllowedOrigins(settings.gateway.cors_origins),
        "credentials": settings.gateway.cors_credentials,
    }


def _rules(settings: Settings) -> RequestRules:
    origins = AllowedOrigins(settings.gateway.cors_origins)
    # CORS answers preflights before the guard, which refuses any other OPTIONS.
    allow = (*GRAPHQL_METHODS, "OPTIONS") if origins else GRAPHQL_METHODS
    return RequestRules(
        max_body_bytes=settings.gateway.max_body_bytes,
        body_timeout=settings.gateway.body_timeout,
        allow=allow,
        origins=origins,
    )


def _front(settings: Settings, observing: Observability) -> list[Middleware]:
    """What every request but `/graphql`'s passes, outermost first."""
    return [
        Middleware(RequestScopes, telemetry=observing.telemetry),
        # Outside the error boundary, so even a masked failure carries its headers. With
        # no origin allowed it only refuses preflights, saying so.
        Middleware(GatewayCors, **_cors(settings)),
        Middleware(MaskedFailures),
        Middleware(HttpGuard, rules=_rules(settings)),
    ]


def _health_routes(adapters: Adapters, readiness: Readiness) -> list[BaseRoute]:
    async def healthz(request: Request) -> Response:
        vendors = [vendor.value for vendor in adapters.configured]
        return JSONResponse({"status": "ok", "vendors": vendors})

    async def readyz(request: Request) -> Response:
        ready, report = await readiness.check()
        return JSONResponse(report, status_code=200 if ready else 503)

    return [
        Route("/healthz", healthz, methods=["GET"]),
        Route("/readyz", readyz, methods=["GET"]),
    ]


def _lifespan(
    adapters: Adapters, observing: Observability, relay: ChangeRelay | None, pollers: Pollers
) -> Lifespan:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pollers.start()
        yield
        await pollers.aclose()
        await adapters.aclose()
        if relay is not None:
            await relay.aclose()
        observing.shutdown()

    return lifespan
