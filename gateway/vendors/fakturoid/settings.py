"""Fakturoid's settings section: the ``FAKTUROID_*`` variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gateway.core.ratelimit import Quota, per_minute
from gateway.plugin import VendorSettings


class FakturoidSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="FAKTUROID_", extra="ignore", frozen=True)

    # Fresh windows (docs/freshness.md): todos change by hand, rarely; 400 requests a minute
    # are shared with the account's other users.
    cache_ttl: float = Field(default=15.0, ge=0)
    cache_stale_while_revalidate: float = Field(default=45.0, ge=0)
    cache_stale_if_error: float = Field(default=600.0, ge=0)

    # Seconds a todo seen on a list page answers a by-id read without a scan (0: off).
    by_id_max_age: float = Field(default=30.0, ge=0)

    api_url: str = "https://app.fakturoid.cz/api/v3"
    account_slug: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    user_agent: str | None = None
    # Fakturoid allows 400 requests a minute per account (0: no gateway-side budget).
    requests_per_minute: int = Field(default=400, ge=0)

    # Fakturoid answers 400 to every call without a User-Agent naming the app and a
    # contact address ('AppName (contact@example.com)'): without one it is only partly
    # configured, and `serve` refuses to start.
    # Fakturoid documents no concurrency limit; its 400 requests a minute bind first.
    max_connections: int = Field(default=20, ge=1, le=1000)

    required: ClassVar = (("account_slug", "client_id", "client_secret", "user_agent"),)

    @property
    def outbound_quotas(self) -> tuple[Quota, ...]:
        return per_minute(self.requests_per_minute)
