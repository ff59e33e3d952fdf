"""Zoho Invoice's settings section: the ``ZOHO_*`` variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gateway.core.configuration import is_set
from gateway.core.ratelimit import DAY, Quota, per_minute
from gateway.plugin import VendorSettings


class ZohoSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="ZOHO_", extra="ignore", frozen=True)

    # Fresh windows (docs/freshness.md): longer, as Zoho's quota is small (about 100 calls a
    # minute, 1,000 a day): a spent day's quota is stood in for up to half an hour.
    cache_ttl: float = Field(default=30.0, ge=0)
    cache_stale_while_revalidate: float = Field(default=90.0, ge=0)
    cache_stale_if_error: float = Field(default=1800.0, ge=0)

    api_url: str = "https://www.zohoapis.com/invoice/v3"
    accounts_url: str = "https://accounts.zoho.com"
    organization_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    access_token: SecretStr | None = None
    # The organization's base currency (ISO 4217): amounts whose record names no currency
    # code (tasks name only a currency id) get its minor units.
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$")
    # Zoho Invoice allows 100 requests a minute per organization, and a daily number
    # by plan (1,000 on the free plan; raise it to your plan's). 0 turns either off.
    requests_per_minute: int = Field(default=100, ge=0)
    requests_per_day: int = Field(default=1000, ge=0)

    # The shared secret the workflow webhooks carry in their X-Gateway-Webhook-Token header
    # (POST /webhooks/zoho); unset, that endpoint answers 404.
    webhook_secret: SecretStr | None = None

    # A client and its refresh token (the gateway renews access tokens), or a static
    # access token (for trying the API: Zoho's expire within the hour).
    # Zoho's per-organization concurrency limit is not published for Invoice; Zoho Books
    # documents 10 on its paid plans [guess]. Its 100 calls a minute bind long before.
    max_connections: int = Field(default=10, ge=1, le=1000)

    required: ClassVar = (
        ("organization_id", "client_id", "client_secret", "refresh_token"),
        ("organization_id", "access_token"),
    )
    # Refresh tokens are valid only at the accounts server of their data centre.
    check_on_refusal: ClassVar = ("accounts_url", "api_url")

    @property
    def uses_static_token(self) -> bool:
        # An empty variable (common in .env files) means "not set", not "empty token".
        return is_set(self.access_token)

    @property
    def outbound_quotas(self) -> tuple[Quota, ...]:
        daily = (Quota(self.requests_per_day, DAY),) if self.requests_per_day else ()
        return per_minute(self.requests_per_minute) + daily
