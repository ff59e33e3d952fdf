"""Configuration from environment variables, one section per vendor.

A vendor whose credentials are missing is simply disabled; the GraphQL layer
then answers ``VENDOR_NOT_CONFIGURED`` for it instead of failing at start-up.
"""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.vendors.fakturoid.settings import FakturoidSettings
from gateway.vendors.invoiced.settings import InvoicedSettings
from gateway.vendors.readydesk.settings import ReadyDeskSettings
from gateway.vendors.zoho.settings import ZohoSettings


def _section(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, extra="ignore", frozen=True)


class GatewaySettings(BaseSettings):
    """Serving, limits and resilience. Every limit is on by default: the defaults
    protect the vendors' quotas from one hostile or careless client."""

    model_config = _section("GATEWAY_")

    host: str = "127.0.0.1"
    port: int = 8000
    upstream_timeout: float = Field(default=10.0, gt=0)
    upstream_accounting: bool = False

    # Operation limits, checked after validation and before any upstream call.
    max_depth: int = Field(default=8, ge=1)
    max_aliases: int = Field(default=30, ge=1)
    max_tokens: int = Field(default=2000, ge=1)
    max_upstream_calls: int = Field(default=60, ge=1)
    operation_timeout: float = Field(default=30.0, gt=0)

    # HTTP hygiene.
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    header_timeout: float = Field(default=10.0, gt=0)
    body_timeout: float = Field(default=10.0, gt=0)

    # Writes: a repeated idempotency key within this many seconds replays the answer.
    idempotency_window: float = Field(default=3600.0, gt=0)

    # Circuit breaker per vendor: this many consecutive failures open it for the cool-down.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_cooldown: float = Field(default=30.0, gt=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    gateway: GatewaySettings = Field(default_factory=GatewaySettings)
    invoiced: InvoicedSettings = Field(default_factory=InvoicedSettings)
    zoho: ZohoSettings = Field(default_factory=ZohoSettings)
    readydesk: ReadyDeskSettings = Field(default_factory=ReadyDeskSettings)
    fakturoid: FakturoidSettings = Field(default_factory=FakturoidSettings)
