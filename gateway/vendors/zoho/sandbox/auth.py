"""The Zoho accounts token endpoint, and the checks every API call passes through:
OAuth token, organization, per-minute call limit."""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from gateway.core.sandbox import json_response

from .store import RATE_WINDOW_SECONDS, Store
from .wire import (
    CODE_NO_AUTHTOKEN,
    CODE_NOT_AUTHORIZED,
    CODE_ORGANIZATION,
    CODE_RATE_LIMITED,
    ZohoError,
)

ApiHandler = Callable[[Request, Store], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

ORG_HEADER = "X-com-zoho-invoice-organizationid"
AUTH_SCHEME = "zoho-oauthtoken"


async def token(request: Request) -> Response:
    """POST /accounts/oauth/v2/token, refresh-token grant only.

    Zoho's accounts server reports failures with HTTP 200 and an `error` field
    rather than an HTTP error status, and clients have to look at the body; the
    sandbox does the same so gateway code that only checks the status is caught.
    """
    store: Store = request.app.state.store
    # Zoho's own examples put the parameters in the query string of a POST; form
    # bodies work too, so both are read and the form wins.
    params = dict(request.query_params)
    async with request.form() as form:
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    if params.get("grant_type") != "refresh_token":
        return json_response({"error": "unsupported_grant_type"})
    # A wrong secret is reported like a wrong client ID; Zoho's own wording for a
    # bad secret on a refresh grant is not pinned down. [guess]
    if params.get("client_id") != store.client_id or (
        params.get("client_secret") != store.client_secret
    ):
        return json_response({"error": "invalid_client"})
    if params.get("refresh_token") != store.refresh_token:
        return json_response({"error": "invalid_code"})
    access_token = f"1000.{secrets.token_hex(16)}.{secrets.token_hex(16)}"
    store.tokens[access_token] = store.clock.now() + store.token_ttl
    return json_response(
        {
            "access_token": access_token,
            # Where the API for this account lives: the sandbox serves it itself.
            "api_domain": _mount_url(request),
            "token_type": "Bearer",
            "expires_in": store.token_ttl,
        }
    )


def _mount_url(request: Request) -> str:
    # base_url would drop the mount path, and the API is only reachable under it.
    url = request.url
    return f"{url.scheme}://{url.netloc}{request.scope.get('root_path', '')}".rstrip("/")


def _authenticate(request: Request, store: Store) -> None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != AUTH_SCHEME or not value.strip():
        raise ZohoError(401, CODE_NO_AUTHTOKEN, "Invalid value passed for authtoken.")
    expires = store.tokens.get(value.strip())
    if expires is None or store.clock.now() >= expires:
        raise ZohoError(
            401, CODE_NOT_AUTHORIZED, "You are not authorized to perform this operation"
        )


def _check_organization(request: Request, store: Store) -> None:
    # The header is the documented way; the errors page still shows the older
    # ?organization_id= query parameter, which Zoho keeps accepting.
    org = request.headers.get(ORG_HEADER) or request.query_params.get("organization_id")
    # Code and wording for both failures are [guess]; the status split follows the
    # errors page: 400 for a missing parameter, 403 for a user outside the org.
    if not org:
        raise ZohoError(
            400,
            CODE_ORGANIZATION,
            "Please send the organization ID in the X-com-zoho-invoice-organizationid header.",
        )
    if org != store.organization_id:
        raise ZohoError(
            403, CODE_ORGANIZATION, "You are not authorized to access this organization."
        )


def rate_headers(store: Store, *, consume: bool) -> dict[str, str]:
    """Count the call (if asked) and describe the organization's current window.

    A call over either limit (the minute's, the day's) raises instead of counting; both
    answer code 45 with HTTP 429 [doc]. Reset is the number of seconds until the
    minute's window rolls over. [guess]
    """
    limit, daily = store.rate_limit, store.daily_limit
    window = store.window(store.organization_id)
    day = store.day(store.organization_id)
    if consume:
        if daily is not None and day.used >= daily:
            raise ZohoError(
                429,
                CODE_RATE_LIMITED,
                "You have reached the maximum number of API calls allowed for a day.",
            )
        if limit is not None and window.used >= limit:
            raise ZohoError(
                429,
                CODE_RATE_LIMITED,
                "You have made too many requests continuously. Please try again after some time.",
            )
        window.used += 1
        day.used += 1
    if limit is None:
        return {}
    reset = window.started + RATE_WINDOW_SECONDS - int(store.clock.now())
    return {
        "X-Rate-Limit-Limit": str(limit),
        "X-Rate-Limit-Remaining": str(max(limit - window.used, 0)),
        "X-Rate-Limit-Reset": str(max(reset, 1)),
    }


def api(handler: ApiHandler) -> Endpoint:
    """Wrap an API handler with Zoho's auth, organization and rate-limit checks.

    Every answer, failures included, carries the rate-limit headers; only calls
    that get past auth and organization checks use up the allowance.
    """

    async def endpoint(request: Request) -> Response:
        store: Store = request.app.state.store
        try:
            _authenticate(request, store)
            _check_organization(request, store)
            headers = rate_headers(store, consume=True)
        except ZohoError as error:
            response = error.response()
            response.headers.update(rate_headers(store, consume=False))
            return response
        try:
            response = await handler(request, store)
        except ZohoError as error:
            response = error.response()
        response.headers.update(headers)
        return response

    return endpoint
