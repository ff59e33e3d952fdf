"""Zoho Invoice's settings section: the ``ZOHO_*`` variables."""

from __future__ import annotations

from pydantic import SecretStr
from pydantic_settings import SettingsConfigDict

from gateway.plugin import VendorSettings


class ZohoSettings(VendorSettings):
    model_config = SettingsConfigDict(env_prefix="ZOHO_", extra="ignore", frozen=True)

    api_url: str = "https://www.zohoapis.com/invoice/v3"
    accounts_url: str = "https://accounts.zoho.com"
    organization_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    refresh_token: SecretStr | None = None
    access_token: SecretStr | None = None

    @property
    def uses_static_token(self) -> bool:
        # An empty variable (common in .env files) means "not set", not "empty token".
        return bool(self.access_token and self.access_token.get_secret_value())

    @property
    def configured(self) -> bool:
        refreshable = bool(self.client_id and self.client_secret and self.refresh_token)
        return bool(self.organization_id) and (self.uses_static_token or refreshable)
