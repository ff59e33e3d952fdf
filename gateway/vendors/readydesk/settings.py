"""ReadyDesk's settings section: the ``READYDESK_*`` variables."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gateway.plugin import VendorSettings


class ReadyDeskSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="READYDESK_", extra="ignore", frozen=True)

    # Fresh windows (docs/freshness.md): invoices change slowly.
    cache_ttl: float = Field(default=15.0, ge=0)
    cache_stale_while_revalidate: float = Field(default=30.0, ge=0)
    cache_stale_if_error: float = Field(default=300.0, ge=0)

    api_url: str | None = None
    api_key: SecretStr | None = None
    timezone: str = "UTC"
    # The help desk's billing currency (ISO 4217): ReadyDesk's amounts carry none, and
    # the gateway gives them this currency's minor units ("178.50" in USD, "179" in JPY).
    currency: str = Field(default="USD", pattern=r"^[A-Za-z]{3}$")

    # Each ReadyDesk is its own site: no default address.
    # ReadyDesk runs on the customer's own server, which documents no limit: a polite default.
    max_connections: int = Field(default=20, ge=1, le=1000)

    required: ClassVar = (("api_url", "api_key"),)
