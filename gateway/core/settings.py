"""The gateway's own settings section (``GATEWAY_*``): serving, limits, resilience,
shared state, caching, CORS, persisted documents, readiness, observability and client
authentication. The composite with every vendor's section is ``gateway.config``."""

from __future__ import annotations

import re
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

_ORIGIN = re.compile(r"[a-z][a-z0-9+.-]*://[^/?#\s]+")


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True)


class GatewaySettings(BaseSettings):
    """Serving, limits and resilience. Every limit is on by default: the defaults
    protect the vendors' quotas from one hostile or careless client."""

    model_config = _section("GATEWAY_")

    host: str = "127.0.0.1"
    # 0: any free port (the log says which).
    port: int = Field(default=8000, ge=0, le=65535)
    upstream_timeout: float = Field(default=10.0, gt=0)
    upstream_accounting: bool = False
    # uvicorn's access log: a line per request, query secrets redacted.
    access_log: bool = True

    # Operation limits, checked before any upstream call: tokens while parsing; field
    # selections, depth and aliases of the document with its fragments expanded, right
    # after parsing (validation and execution walk that expansion, which a few
    # hundred bytes of fragments spreading fragments make millions of fields); the
    # upstream-call budget after validation.
    max_depth: int = Field(default=8, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=1)
    max_fields: int = Field(default=1000, ge=1)
    max_upstream_calls: int = Field(default=60, ge=1)
    operation_timeout: float = Field(default=30.0, gt=0)

    # HTTP hygiene.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=10.0, gt=0)

    # Several processes: state they share (OAuth tokens, idempotency replays) is kept in
    # Redis when this is set (redis://host:6379/0), else in each process's memory.
    redis_url: SecretStr | None = None
    # Seconds a Redis command may take before the process goes on without Redis (each
    # part falls back to its own memory, see docs/operations.md): short, so a slow or
    # vanished server holds requests for no longer than this.
    redis_timeout: float = Field(default=0.5, gt=0, le=30)
    # uvicorn worker processes for `serve`; more than one needs GATEWAY_REDIS_URL to share
    # tokens and replays between them.
    workers: int = Field(default=1, ge=1)

    # Vendor reads shared by every client, within each vendor's windows (`<VENDOR>_CACHE_*`,
    # docs/freshness.md), in Redis when GATEWAY_REDIS_URL is set (shared by every process),
    # dropped by every write and change event. Each answer says how old its parts may be.
    cache: bool = True
    cache_max_entries: int = Field(default=10_000, ge=1)
    # Concurrent identical vendor reads (same URL and headers) share one call in flight.
    collapse_reads: bool = True

    # Subscriptions (GraphQL over WebSocket or SSE): active ones per client, and in this process.
    max_subscriptions: int = Field(default=10, ge=1)
    max_subscriptions_total: int = Field(default=1000, ge=1)
    # Seconds between keep-alive comments on an idle event stream (GraphQL over SSE),
    # shorter than the idle timeout of any proxy in front.
    sse_keepalive: float = Field(default=15.0, gt=0)

    # Pollers: changes made outside the gateway (the vendor's own app, other integrations)
    # found by each vendor's delta read and published to subscribers; at most this share
    # of each vendor quota; one process polls a vendor, holding a lease this many seconds.
    poll: bool = True
    poll_share: float = Field(default=0.10, gt=0, le=1)
    poll_lease: float = Field(default=15.0, gt=0)

    # Writes: a repeated idempotency key within this many seconds replays the answer.
    idempotency_window: float = Field(default=3600.0, gt=0)
    # Seconds a running write's lease lasts (renewed while its process lives): other
    # processes see a dead writer's key and item lock freed within about this long.
    write_lease: float = Field(default=5.0, gt=0)

    # Browsers: origins allowed to call the gateway across sites (a comma list of
    # `scheme://host[:port]`, `scheme://host:*` for any port of a host, `*` for any) and
    # whether they may send cookies or HTTP auth with it. `demo` allows localhost's ports.
    cors_origins: str = ""
    cors_credentials: bool = False

    # Automatic persisted queries (Apollo's protocol): documents kept by hash, per process.
    persisted_queries: bool = True
    persisted_queries_max: int = Field(default=1000, ge=1)
    # A manifest of persisted documents (Apollo's or Relay's format): when set, only
    # the documents in it are run, and APQ registration is off.
    persisted_documents: str | None = None

    # Circuit breaker per vendor: this many consecutive failures open it for the cool-down.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown: float = Field(default=30.0, gt=0)

    # Readiness (/readyz): a round of vendor probes is reused this many seconds, so
    # probes cannot be used to hammer vendors; each probe may take this long.
    ready_cache: float = Field(default=5.0, ge=0)
    ready_timeout: float = Field(default=3.0, gt=0)

    # Observability (gateway/observability): logs, /metrics. Tracing is set by OTEL_*.
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["json", "text"] = "json"
    metrics: bool = True

    # Client authentication and rate limits (gateway/auth). Auth is on unless turned off
    # (`task-gateway demo` does); keys are given hashed: `name:sha256hex:scope,scope;...`
    # or the path of a JSON file of {"name", "sha256", "scopes"} objects.
    auth: bool = True
    api_keys: str = ""
    jwt_secret: SecretStr | None = None
    jwks_url: str | None = None
    jwks_cache_seconds: float = Field(default=300.0, gt=0)
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    introspection: bool = True
    graphiql: bool = True
    # The Apollo Federation v2 subgraph schema (`_entities`, `_service`, `@key`, `@link`)
    # instead of the client schema: only behind a federation router, which composes it.
    federation: bool = False
    # How queries run: each operation compiled once into a plan (gateway.api.compiled),
    # or graphql-core's generic executor for every field.
    executor: Literal["compiled", "graphql-core"] = "compiled"
    # Per client (0: unlimited): HTTP requests, and upstream calls its operations make.
    client_requests_per_minute: int = Field(default=600, ge=0)
    client_upstream_calls_per_minute: int = Field(default=1200, ge=0)
    # The part of each vendor quota left to the account's other users (the vendor's own
    # UI, other integrations): the gateway uses at most (1 - reserve) of every window.
    quota_reserve: float = Field(default=0.2, ge=0, lt=1)
    # Of a vendor quota longer than an hour (Zoho's day), the share that refreshes only age
    # calls for may spend at once; the rest is spread over its period (1: not paced).
    quota_burst: float = Field(default=0.2, ge=0, le=1)

    @model_validator(mode="after")
    def _no_credentials_for_every_origin(self) -> GatewaySettings:
        # Any site could then act with a visitor's cookies: Starlette would echo its origin.
        origins = {origin.strip() for origin in self.cors_origins.split(",")}
        if self.cors_credentials and "*" in origins:
            raise ValueError(
                "GATEWAY_CORS_CREDENTIALS=true needs GATEWAY_CORS_ORIGINS to list the "
                "origins, not `*`."
            )
        return self

    @field_validator("cors_origins")
    @classmethod
    def _origins(cls, value: str) -> str:
        # An entry no browser's Origin header could ever equal is a typo: say so at start.
        for entry in (part.strip().rstrip("/") for part in value.split(",")):
            bare = entry.removesuffix(":*")
            if entry in ("", "*") or ("*" not in bare and _ORIGIN.fullmatch(bare)):
                continue
            raise ValueError(
                f"{entry!r} is not an origin: write `scheme://host[:port]`, "
                "`scheme://host:*` for any port, or `*`."
            )
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        # Checked here, not when the store opens: a bad URL stops the start with the
        # variable's name, and the message never repeats the URL (it holds a password).
        url = value.get_secret_value() if value is not None else ""
        if url.strip() and not _is_url(url, ("redis", "rediss", "unix")):
            raise ValueError(
                "must be a redis://, rediss:// or unix:// URL, such as "
                "redis://localhost:6379/0 (the value is not shown: it may hold a password)"
            )
        return value

    @field_validator("jwks_url")
    @classmethod
    def _jwks_url(cls, value: str | None) -> str | None:
        if value and not _is_url(value, ("https", "http")):
            raise ValueError("must be an https:// URL of a JSON Web Key Set")
        return value

    @field_validator("log_level", "log_format", mode="before")
    @classmethod
    def _lower_case(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value


def _is_url(value: str, schemes: tuple[str, ...]) -> bool:
    """Whether ``value`` parses as a URL of one of ``schemes``, with a host unless a
    Unix socket, and a numeric port if any."""
    try:
        parts = urlsplit(value.strip())
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        return False
    if parts.scheme not in schemes:
        return False
    return parts.scheme == "unix" or bool(parts.hostname)
