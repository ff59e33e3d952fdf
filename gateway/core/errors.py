"""The one error hierarchy of the gateway.

Every failure a client can see is one of these, and each carries the
``extensions.code`` it is reported under. The branches say what failed: the
HTTP request (refused before GraphQL, with its own status), the operation
(refused or cut short by the gateway), what it asked for, or the vendor::

    GatewayError                           INTERNAL_SERVER_ERROR              base, never raised
    ├── RequestRefused                     the HTTP request, not run:
    │   ├── BadRequest                     BAD_REQUEST                   400  no request to run
    │   ├── Unauthenticated                UNAUTHENTICATED               401  bad credentials
    │   ├── MethodNotAllowed               METHOD_NOT_ALLOWED            405  not GET or POST
    │   ├── RequestTimeout                 REQUEST_TIMEOUT               408  body read too slowly
    │   ├── PayloadTooLarge                PAYLOAD_TOO_LARGE             413  body over the limit
    │   ├── ClientRateLimited              RATE_LIMITED                  429  requests a minute
    │   └── PersistedQueryError            the persisted query it names:
    │       ├── PersistedQueryNotFound     PERSISTED_QUERY_NOT_FOUND     200  resend with query
    │       ├── PersistedQueryNotSupported PERSISTED_QUERY_NOT_SUPPORTED 200  APQ is off
    │       └── PersistedQueryNotAllowed   PERSISTED_QUERY_NOT_ALLOWED   400  not in manifest
    ├── OperationRefused                   the operation, by the gateway:
    │   ├── Forbidden                      FORBIDDEN                     200  scope not granted
    │   ├── ClientBudgetSpent              RATE_LIMITED                  200  upstream calls/min
    │   ├── OperationTooComplex            OPERATION_TOO_COMPLEX         200* depth, aliases, cost
    │   ├── OperationTimedOut              OPERATION_TIMEOUT             200  its time limit
    │   ├── TooManySubscriptions           TOO_MANY_SUBSCRIPTIONS        200  per client, process
    │   └── BadUserInput                   BAD_USER_INPUT                200  an argument refused
    ├── NotFound                           NOT_FOUND                     200  no such item
    ├── VendorNotConfigured                VENDOR_NOT_CONFIGURED         200  no credentials here
    └── UpstreamError                      UPSTREAM_ERROR                200  the vendor:
        ├── UpstreamAuthError              UPSTREAM_AUTH                 200  401/403, grant refused
        ├── UpstreamRejected               UPSTREAM_REJECTED             200  input we let through
        ├── UpstreamMisconfigured          UPSTREAM_MISCONFIGURED        200  our settings wrong
        ├── RateLimited                    RATE_LIMITED                  200  429; retryAfter
        ├── UpstreamUnavailable            UPSTREAM_UNAVAILABLE          200  5xx, timeout, refused
        ├── OutcomeUnknown                 OUTCOME_UNKNOWN               200  write sent, applied?
        └── UpstreamBadResponse            UPSTREAM_BAD_RESPONSE         200  unreadable body

The status is the HTTP answer's. A ``RequestRefused`` is answered with its own,
before GraphQL (gateway.api.errors.refusal_response); every other error is a GraphQL
error in the response. *: HTTP 400 when the client accepts
``application/graphql-response+json``, since the operation never started.

Messages are written by the gateway, never copied from an upstream body, so
credentials, headers and raw vendor payloads cannot reach a client or a log.
Anything raised that is not a ``GatewayError`` is masked by the GraphQL layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from gateway.core.types import Vendor


class GatewayError(Exception):
    code: ClassVar[str] = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = {key: value for key, value in details.items() if value is not None}

    @property
    def extensions(self) -> dict[str, Any]:
        # graphql-core copies an original error's ``extensions`` into the response.
        return {"code": self.code, **self.details}


class RequestRefused(GatewayError):
    """The HTTP request was not run: answered before GraphQL, with ``status``."""

    code = "BAD_REQUEST"
    status: ClassVar[int] = 400


class BadRequest(RequestRefused):
    """Not a GraphQL request the gateway will run (malformed, CSRF-unsafe, ambiguous)."""


class Unauthenticated(RequestRefused):
    """No credentials, or ones the gateway does not accept; answered with ``WWW-Authenticate``."""

    code = "UNAUTHENTICATED"
    status = 401

    def __init__(self, message: str, *, challenge: str) -> None:
        super().__init__(message)
        self.challenge = challenge


class MethodNotAllowed(RequestRefused):
    """A method the endpoint does not serve; answered with ``Allow``."""

    code = "METHOD_NOT_ALLOWED"
    status = 405

    def __init__(self, method: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"{method} is not served here: use GET or POST.")
        self.allowed = allowed


class RequestTimeout(RequestRefused):
    code = "REQUEST_TIMEOUT"
    status = 408


class PayloadTooLarge(RequestRefused):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class ClientRateLimited(RequestRefused):
    """A client sent more requests this minute than it may; refused before GraphQL."""

    code = "RATE_LIMITED"
    status = 429

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after


class PersistedQueryError(RequestRefused):
    """The persisted query a request names cannot be run as asked."""


class PersistedQueryNotFound(PersistedQueryError):
    """A hash the gateway does not know. Apollo's clients answer it by sending the
    document with its hash, so it comes with HTTP 200 (a 400 would make them give up
    persisted queries for good)."""

    code = "PERSISTED_QUERY_NOT_FOUND"
    status = 200

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PersistedQueryNotSupported(PersistedQueryError):
    """Automatic persisted queries are off: Apollo's clients then send documents."""

    code = "PERSISTED_QUERY_NOT_SUPPORTED"
    status = 200

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotSupported")


class PersistedQueryNotAllowed(PersistedQueryError):
    """The gateway runs only the documents of its manifest, and this is not one."""

    code = "PERSISTED_QUERY_NOT_ALLOWED"


class OperationRefused(GatewayError):
    """The operation was refused or stopped by the gateway itself, not by a vendor."""


class Forbidden(OperationRefused):
    """The client is known but its scopes do not cover this field's vendor and access."""

    code = "FORBIDDEN"

    def __init__(self, vendor: Vendor, scope: str) -> None:
        super().__init__(
            f"This client may not use {vendor.label} here: it needs the {scope!r} scope.",
            vendor=vendor.value,
            scope=scope,
        )
        self.vendor = vendor


class ClientBudgetSpent(OperationRefused):
    """A client's upstream-call budget for the minute cannot cover this operation."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message, retryAfter=retry_after)
        self.retry_after = retry_after


class OperationTooComplex(OperationRefused):
    """Refused before execution: no upstream call is made for it."""

    code = "OPERATION_TOO_COMPLEX"

    def __init__(self, message: str, *, limit: str, maximum: int, actual: int) -> None:
        super().__init__(message, limit=limit, maximum=maximum, actual=actual)


class OperationTimedOut(OperationRefused):
    code = "OPERATION_TIMEOUT"


class TooManySubscriptions(OperationRefused):
    code = "TOO_MANY_SUBSCRIPTIONS"


class BadUserInput(OperationRefused):
    code = "BAD_USER_INPUT"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class NotFound(GatewayError):
    code = "NOT_FOUND"

    def __init__(self, message: str, *, vendor: Vendor | None = None) -> None:
        super().__init__(message, vendor=vendor.value if vendor else None)


class VendorNotConfigured(GatewayError):
    """``variables``: the environment variables that turn the vendor on (names only);
    ``described``: every way of doing so in words, when there are several."""

    code = "VENDOR_NOT_CONFIGURED"

    def __init__(
        self, vendor: Vendor, variables: Sequence[str] = (), described: str | None = None
    ) -> None:
        to_set = described or ", ".join(variables) or "its environment variables"
        super().__init__(
            f"{vendor.label} is not configured on this gateway; set {to_set}.",
            vendor=vendor.value,
            variables=list(variables) or None,
        )
        self.vendor = vendor


class UpstreamError(GatewayError):
    code = "UPSTREAM_ERROR"

    def __init__(self, vendor: Vendor, message: str, **details: Any) -> None:
        super().__init__(f"{vendor.label}: {message}", vendor=vendor.value, **details)
        self.vendor = vendor


class UpstreamAuthError(UpstreamError):
    code = "UPSTREAM_AUTH"


class UpstreamRejected(UpstreamError):
    code = "UPSTREAM_REJECTED"


class UpstreamMisconfigured(UpstreamError):
    """The vendor says the gateway's own settings are wrong (an organization
    the credentials do not belong to, an API address that is not the API):
    no request from a client can succeed until an operator fixes them."""

    code = "UPSTREAM_MISCONFIGURED"


class RateLimited(UpstreamError):
    code = "RATE_LIMITED"

    def __init__(self, vendor: Vendor, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(vendor, message, retryAfter=retry_after)
        self.retry_after = retry_after


class UpstreamUnavailable(UpstreamError):
    code = "UPSTREAM_UNAVAILABLE"


class OutcomeUnknown(UpstreamError):
    """A write was sent to the vendor and the gateway cannot tell whether it was
    applied (no answer in time, or a retry that finds more than one candidate).
    Never answered with a second write: the message says what to check first."""

    code = "OUTCOME_UNKNOWN"


class UpstreamBadResponse(UpstreamError):
    code = "UPSTREAM_BAD_RESPONSE"
