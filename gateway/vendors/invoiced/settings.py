"""Invoiced's settings section: ``INVOICED_API_URL`` and ``INVOICED_API_KEY``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from gateway.plugin import VendorSettings


class InvoicedSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="INVOICED_", extra="ignore", frozen=True)

    # Seconds a read is reused under GATEWAY_CACHE: tasks change by hand, rarely.
    cache_ttl: float = Field(default=10.0, ge=0)

    api_url: str = "https://api.invoiced.com"
    api_key: SecretStr | None = None

    @property
    def configured(self) -> bool:
        return bool(self.api_key and self.api_key.get_secret_value())
