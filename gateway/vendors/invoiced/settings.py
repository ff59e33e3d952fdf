"""Invoiced's settings section: ``INVOICED_API_URL``, ``INVOICED_API_KEY`` and
``INVOICED_WEBHOOK_SECRET``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gateway.plugin import VendorSettings


class InvoicedSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="INVOICED_", extra="ignore", frozen=True)

    # Fresh windows (docs/freshness.md): tasks change by hand, rarely; the vendor limits
    # concurrency, not volume, so a short SWR window suffices.
    cache_ttl: float = Field(default=10.0, ge=0)
    cache_stale_while_revalidate: float = Field(default=20.0, ge=0)
    cache_stale_if_error: float = Field(default=300.0, ge=0)

    api_url: str = "https://api.invoiced.com"
    api_key: SecretStr | None = None
    # The webhook secret (Settings -> Developers -> Webhooks) that signs the events Invoiced
    # POSTs to /webhooks/invoiced; unset, that endpoint answers 404.
    webhook_secret: SecretStr | None = None

    # Invoiced allows 20 requests in flight per key [seen]; more are answered 429.
    max_connections: int = Field(default=20, ge=1, le=1000)

    required: ClassVar = (("api_key",),)
    # A live key sent to Invoiced's sandbox (or the reverse) is refused like a wrong one.
    check_on_refusal: ClassVar = ("api_url",)
