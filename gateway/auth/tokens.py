"""JWT bearer tokens: HS256 with a shared secret, or RS256/ES256 with a provider's JWKS.

The algorithm a token names picks the key source, and each source accepts only
its own algorithms, so an asymmetric public key can never be used as an HMAC
secret (and ``none`` is never accepted). ``exp`` is required; ``iss`` and
``aud`` are checked when configured. Scopes come from the standard ``scope``
claim (space-separated) or ``scp`` (a list or a string).
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import jwt

from gateway.auth.jwks import ASYMMETRIC_ALGORITHMS, JwksCache, JwksUnavailable
from gateway.core.principal import Principal, parse_scopes

SHARED_SECRET_ALGORITHMS = ("HS256",)
# Clocks of the provider and the gateway differ a little.
LEEWAY_SECONDS = 30


class InvalidToken(Exception):
    """Why a token was refused, in words safe to tell the client."""


class TokenVerifier:
    def __init__(
        self,
        vendors: Collection[str],
        *,
        secret: str | None = None,
        jwks: JwksCache | None = None,
        issuer: str | None = None,
        audience: str | None = None,
    ) -> None:
        if secret is None and jwks is None:
            raise ValueError("a token verifier needs a shared secret or a JWKS URL")
        self._vendors = vendors
        self._secret, self._jwks = secret, jwks
        self._issuer, self._audience = issuer, audience

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("The bearer token is not a JWT.") from None
        algorithm = header.get("alg")
        key: Any
        if algorithm in SHARED_SECRET_ALGORITHMS and self._secret is not None:
            key, algorithms = self._secret, SHARED_SECRET_ALGORITHMS
        elif algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            key_id = header.get("kid")
            try:
                found = await self._jwks.key(key_id if isinstance(key_id, str) else None)
            except JwksUnavailable:
                raise InvalidToken("The token's signing keys cannot be read right now.") from None
            if found is None:
                raise InvalidToken("The token is signed with an unknown key.")
            key, algorithms = found, (found.algorithm_name,)
        else:
            raise InvalidToken(f"Tokens signed with {str(algorithm)[:10]!r} are not accepted.")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=list(algorithms),
                issuer=self._issuer,
                audience=self._audience,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "sub"], "verify_aud": self._audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise InvalidToken("The token has expired.") from None
        except (jwt.InvalidIssuerError, jwt.InvalidAudienceError):
            raise InvalidToken("The token was not issued for this gateway.") from None
        except jwt.PyJWTError:
            raise InvalidToken("The token is invalid.") from None
        return Principal(f"jwt:{claims['sub']}", self._scopes(claims))

    def _scopes(self, claims: dict[str, Any]) -> frozenset[str]:
        raw = claims.get("scope")
        if raw is None:
            raw = claims.get("scp", "")
        scopes = raw.split() if isinstance(raw, str) else raw if isinstance(raw, list) else []
        return parse_scopes((s for s in scopes if isinstance(s, str)), self._vendors, strict=False)
