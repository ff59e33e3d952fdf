"""Starlette app emulating the Fakturoid v3 OAuth token and todos endpoints."""

from __future__ import annotations

import base64
import binascii
import re
import secrets
from datetime import datetime
from urllib.parse import parse_qs

import orjson
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.core.sandbox import ADMIN_CHANGES, Clock, Quota, json_response, resolve_quota

from . import admin, errors
from .seed import ACCOUNT_SLUG, CLIENT_ID, CLIENT_SECRET, USER_AGENT, seed_todos
from .store import PRAGUE, RateLimiter, Store, TokenStatus

PREFIX = "/fakturoid"
API_ROOT = "/api/v3"
QUOTA_ENV = "FAKTUROID_SANDBOX_QUOTA"

_ACCOUNT_IN_PATH = re.compile(r"/api/v3/accounts/([^/]+)/")
# An unencoded "+" in a query string decodes to a space, so "…14+02:00" arrives as "…14 02:00".
_SPACE_FOR_PLUS = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$")
_NUMBER = re.compile(r"[0-9]+")


class RateLimitMiddleware:
    """Counts every request and stamps the rate-limit headers on every response.

    It runs before routing, so rejected requests count too [guess: limits are usually enforced
    ahead of the application]. Buckets are per account slug, with one shared bucket for the
    token endpoint [guess: the doc does not say what the quota is keyed on].
    """

    def __init__(self, app: ASGIApp, limiter: RateLimiter | None, clock: Clock) -> None:
        self.app = app
        self.limiter = limiter
        self.clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # No limiter: the quota is off. The admin endpoint is the sandbox's, not Fakturoid's.
        if scope["type"] != "http" or self.limiter is None or scope["path"].endswith(ADMIN_CHANGES):
            await self.app(scope, receive, send)
            return
        match = _ACCOUNT_IN_PATH.search(scope["path"])
        key = f"account:{match.group(1)}" if match else "oauth"
        state = self.limiter.hit(key, self.clock.now())
        headers = state.headers()
        if state.exceeded:
            # Retry-After is a [guess]: the doc only promises the X-RateLimit headers and 429.
            response = errors.rate_limited({**headers, "Retry-After": str(state.reset_in)})
            await response(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message).update(headers)
            await send(message)

        await self.app(scope, receive, send_with_headers)


class _Api:
    def __init__(self, store: Store, clock: Clock, token_ttl: int) -> None:
        self.store = store
        self.clock = clock
        self.token_ttl = token_ttl

    async def token(self, request: Request) -> Response:
        if not request.headers.get("user-agent", "").strip():
            return errors.missing_user_agent()
        content_type = request.headers.get("content-type", "")
        grant_type, problem = _grant_type(await request.body(), content_type)
        if problem is not None:
            return problem
        # [guess] grant type before client, as Doorkeeper-style servers pick the grant first.
        if grant_type is None:
            return errors.error(400, "invalid_request", "Missing required parameter: grant_type.")
        if grant_type != "client_credentials":
            # The real server also knows authorization_code and refresh_token (the browser flow);
            # the sandbox emulates only the machine-to-machine flow the gateway uses.
            return errors.error(
                400,
                "unsupported_grant_type",
                "The authorization grant type is not supported by the authorization server.",
            )
        if not _client_authenticated(request.headers.get("authorization", "")):
            return errors.error(
                401,
                "invalid_client",
                "Client authentication failed due to unknown client, no client authentication "
                "included, or unsupported authentication method.",
            )
        token = self.store.issue_token(self.clock.now(), self.token_ttl)
        body = {"access_token": token, "token_type": "Bearer", "expires_in": self.token_ttl}
        return json_response(body, headers={"Cache-Control": "no-store"})

    def _guard(self, request: Request, *, write: bool) -> Response | None:
        """User-Agent first (its 400 precedes auth), then the token, then the account state."""
        if not request.headers.get("user-agent", "").strip():
            return errors.missing_user_agent()
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            return errors.invalid_token("The access token is missing")
        status = self.store.token_status(token, self.clock.now())
        if status is TokenStatus.EXPIRED:
            return errors.invalid_token("The access token expired")
        if status is TokenStatus.UNKNOWN:
            return errors.invalid_token("The access token is invalid")
        if request.path_params["slug"] != self.store.account_slug:
            return errors.not_found("Account not found")
        if self.store.blocked:
            return errors.account_blocked()
        # [guess] read-only mode still serves reads; only changes are refused.
        if write and self.store.read_only:
            return errors.read_only()
        return None

    async def list_todos(self, request: Request) -> Response:
        if (problem := self._guard(request, write=False)) is not None:
            return problem
        raw_page = request.query_params.get("page") or "1"
        # [guess] a page that is not a positive integer is refused rather than coerced.
        if not _NUMBER.fullmatch(raw_page) or int(raw_page) < 1:
            return errors.error(400, "invalid_request", "Parameter page must be a positive integer")
        since: datetime | None = None
        raw_since = request.query_params.get("since", "")
        if raw_since:
            since = _parse_since(raw_since)
            if since is None:
                # 400 is documented; the body wording is a [guess].
                return errors.error(
                    400, "invalid_request", "Parameter since is not a valid ISO 8601 date time"
                )
        todos = self.store.list_todos(int(raw_page), since)
        return json_response([todo.to_json() for todo in todos])

    async def toggle_completion(self, request: Request) -> Response:
        if (problem := self._guard(request, write=True)) is not None:
            return problem
        raw_id: str = request.path_params["id"]
        # A non-numeric id is just another unknown record, as with a Rails `find`.
        todo = None
        if _NUMBER.fullmatch(raw_id):
            todo = self.store.toggle_completion(int(raw_id), self.clock.now())
        if todo is None:
            return errors.not_found()
        return json_response(todo.to_json())


def _grant_type(body: bytes, content_type: str) -> tuple[str | None, Response | None]:
    """The doc sends JSON; form encoding is accepted too, as any OAuth 2 server does."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            data = orjson.loads(body) if body.strip() else {}
        except orjson.JSONDecodeError:
            return None, errors.error(400, "invalid_request", "Request body is not valid JSON.")
        if not isinstance(data, dict):
            return None, errors.error(400, "invalid_request", "Request body must be an object.")
        value = data.get("grant_type")
        return (value if isinstance(value, str) else None), None
    form = parse_qs(body.decode("utf-8", errors="replace"))
    return form.get("grant_type", [None])[0], None


def _client_authenticated(authorization: str) -> bool:
    scheme, _, encoded = authorization.partition(" ")
    if scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    client_id, _, client_secret = decoded.partition(":")
    # Bytes, because compare_digest refuses non-ASCII str and a client may send any text.
    return secrets.compare_digest(client_id.encode(), CLIENT_ID.encode()) and (
        secrets.compare_digest(client_secret.encode(), CLIENT_SECRET.encode())
    )


def _parse_since(raw: str) -> datetime | None:
    candidate = _SPACE_FOR_PLUS.sub(r"\1+\2", raw.strip())
    try:
        parsed = datetime.fromisoformat(candidate)
    except ValueError:
        return None
    # [guess] a time without an offset is read in the account's zone, as Rails would.
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=PRAGUE)


async def _http_error(request: Request, exc: Exception) -> Response:
    # Unmatched paths and methods get the JSON error shape instead of Starlette's plain text.
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        # Keep Starlette's Allow header, which HTTP requires on a 405.
        allow = dict(exc.headers or {})
        return errors.error(405, "method_not_allowed", "Method not allowed", headers=allow)
    return errors.not_found("Not found")


def create_app(
    *,
    clock: Clock | None = None,
    token_ttl: int = 7200,
    rate_limit: int = 400,
    rate_window: int = 60,
    quotas: Quota = None,
) -> Starlette:
    """A fresh sandbox with its own freshly seeded store, meant to be mounted at PREFIX.

    ``quotas`` turns the limit of ``rate_limit`` requests per ``rate_window`` seconds on or
    off (see ``resolve_quota``): None reads ``FAKTUROID_SANDBOX_QUOTA``, on unless set.
    """
    clock = clock if clock is not None else Clock()
    store = Store(ACCOUNT_SLUG, seed_todos())
    api = _Api(store, clock, token_ttl)
    limit = resolve_quota(quotas, QUOTA_ENV, rate_limit)
    limiter = RateLimiter(limit, rate_window) if limit is not None else None
    changes = admin.changes(store, clock)
    account = f"{API_ROOT}/accounts/{{slug}}"
    app = Starlette(
        routes=[
            Route(f"{API_ROOT}/oauth/token", api.token, methods=["POST"]),
            Route(f"{account}/todos.json", api.list_todos, methods=["GET"]),
            Route(
                f"{account}/todos/{{id}}/toggle_completion.json",
                api.toggle_completion,
                methods=["POST"],
            ),
            *changes.routes(),
        ],
        middleware=[Middleware(RateLimitMiddleware, limiter=limiter, clock=clock)],
        exception_handlers={404: _http_error, 405: _http_error},
    )
    app.state.store = store
    app.state.clock = clock
    app.state.changes = changes
    return app


def env(base_url: str) -> dict[str, str]:
    """Gateway settings for a sandbox served at base_url (the server root, not PREFIX)."""
    return {
        "FAKTUROID_API_URL": f"{base_url.rstrip('/')}{PREFIX}{API_ROOT}",
        "FAKTUROID_ACCOUNT_SLUG": ACCOUNT_SLUG,
        "FAKTUROID_CLIENT_ID": CLIENT_ID,
        "FAKTUROID_CLIENT_SECRET": CLIENT_SECRET,
        "FAKTUROID_USER_AGENT": USER_AGENT,
    }
