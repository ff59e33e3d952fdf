"""Who is calling: an API key (``X-API-Key``, or ``Authorization: Bearer`` with a key)
or a JWT (``Authorization: Bearer``), turned into a :class:`Principal` or refused."""

from __future__ import annotations

from collections.abc import Collection, Mapping

import httpx

from gateway.auth.api_keys import ApiKeys
from gateway.auth.jwks import JwksCache
from gateway.auth.tokens import InvalidToken, TokenVerifier
from gateway.core.configuration import ConfigurationError
from gateway.core.errors import Unauthenticated
from gateway.core.principal import Principal
from gateway.core.settings import GatewaySettings

REALM = 'Bearer realm="task-gateway"'
INVALID = f'{REALM}, error="invalid_token"'
MIN_SECRET_BYTES = 32
# Every request header a client's credential can travel in.
CREDENTIAL_HEADERS = ("Authorization", "X-API-Key")


def credentials_required() -> Unauthenticated:
    return Unauthenticated(
        "Authentication is required: send an API key (X-API-Key) or a bearer token.",
        challenge=REALM,
    )


class Authenticator:
    def __init__(self, api_keys: ApiKeys, tokens: TokenVerifier | None = None) -> None:
        self.api_keys = api_keys
        self.tokens = tokens

    @property
    def configured(self) -> bool:
        """Whether any client could ever be let in."""
        return bool(self.api_keys) or self.tokens is not None

    @classmethod
    def from_settings(
        cls,
        settings: GatewaySettings,
        vendors: Collection[str],
        *,
        jwks_transport: httpx.AsyncBaseTransport | None = None,
    ) -> Authenticator:
        """ConfigurationError for a malformed setting, so the gateway refuses to start."""
        try:
            api_keys = ApiKeys.parse(settings.api_keys, vendors)
        except ValueError as exc:
            raise ConfigurationError(f"GATEWAY_API_KEYS: {exc}") from None
        secret = settings.jwt_secret.get_secret_value() if settings.jwt_secret else None
        if secret and len(secret.encode()) < MIN_SECRET_BYTES:
            # RFC 7518: an HS256 key shorter than the hash is guessable offline.
            raise ConfigurationError(
                f"GATEWAY_JWT_SECRET: must be at least {MIN_SECRET_BYTES} bytes"
            )
        jwks = (
            JwksCache(settings.jwks_url, ttl=settings.jwks_cache_seconds, transport=jwks_transport)
            if settings.jwks_url
            else None
        )
        tokens = (
            TokenVerifier(
                vendors,
                secret=secret or None,
                jwks=jwks,
                issuer=settings.jwt_issuer,
                audience=settings.jwt_audience,
            )
            if secret or jwks
            else None
        )
        return cls(api_keys, tokens)

    async def authenticate(self, headers: Mapping[str, str]) -> Principal:
        """The client the headers prove, or Unauthenticated (with its challenge)."""
        api_key = headers.get("x-api-key")
        scheme, _, credential = headers.get("authorization", "").strip().partition(" ")
        credential = credential.strip()
        if api_key is None and scheme.lower() == "bearer" and credential:
            if credential.count(".") == 2:
                return await self._token(credential)
            api_key = credential
        if api_key is None:
            raise credentials_required()
        principal = self.api_keys.verify(api_key.strip())
        if principal is None:
            raise Unauthenticated("The API key is not valid.", challenge=INVALID)
        return principal

    async def _token(self, token: str) -> Principal:
        if self.tokens is None:
            raise Unauthenticated("This gateway does not accept bearer tokens.", challenge=INVALID)
        try:
            return await self.tokens.verify(token)
        except InvalidToken as exc:
            raise Unauthenticated(str(exc), challenge=INVALID) from None
