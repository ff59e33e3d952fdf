"""JWT bearer tokens: HS256 with a shared secret, and RS256/ES256 checked against a
JWKS served by a real local HTTP server (fetched once, then cached)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.conftest import Gateway, codes, gateway_settings, running_gateway
from tests.servers import serve_in_thread

SECRET = "a-shared-secret-of-at-least-32-bytes!"
ISSUER = "https://id.example.test/"
AUDIENCE = "task-gateway"
# The "oct" key a careless JWKS might publish: its secret, and that as base64url.
OCT_SECRET = "published-hmac-secret-0123456789abcdef"
OCT_K = base64.urlsafe_b64encode(OCT_SECRET.encode()).decode().rstrip("=")
QUERY = "{ tasks(first: 1) { nodes { id } } projects(first: 1) { nodes { id } } }"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    base = {
        "sub": "svc-reporting",
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "scope": "openid invoiced:read",
    }
    return {**base, **overrides}


async def ask(gateway: Gateway, token: str) -> tuple[int, dict[str, Any], str]:
    response = await gateway.client.post(
        "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code, response.json(), response.headers.get("www-authenticate", "")


@pytest.fixture
async def hs256(monkeypatch: pytest.MonkeyPatch) -> Any:
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_AUTH="true",
        GATEWAY_JWT_SECRET=SECRET,
        GATEWAY_JWT_ISSUER=ISSUER,
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
    )
    async with running_gateway(settings) as gateway:
        yield gateway


async def test_an_hs256_token_grants_its_scopes(hs256: Gateway) -> None:
    status, body, _ = await ask(hs256, jwt.encode(claims(), SECRET, algorithm="HS256"))
    assert status == 200
    assert body["data"]["tasks"]["nodes"]
    assert body["data"]["projects"] is None
    assert codes(body) == ["FORBIDDEN"] and body["errors"][0]["path"] == ["projects"]


async def test_scp_lists_are_read_too(hs256: Gateway) -> None:
    token = jwt.encode(
        claims(scope=None, scp=["invoiced:read", "zoho:read"]), SECRET, algorithm="HS256"
    )
    status, body, _ = await ask(hs256, token)
    assert status == 200 and "errors" not in body


@pytest.mark.parametrize(
    ("token", "message"),
    [
        (jwt.encode(claims(exp=int(time.time()) - 3600), SECRET, "HS256"), "expired"),
        (jwt.encode(claims(aud="someone-else"), SECRET, "HS256"), "not issued for"),
        (jwt.encode(claims(iss="https://evil.test/"), SECRET, "HS256"), "not issued for"),
        (jwt.encode(claims(), "another-secret-of-at-least-32-bytes", "HS256"), "invalid"),
        (jwt.encode({k: v for k, v in claims().items() if k != "exp"}, SECRET, "HS256"), ""),
        (jwt.encode(claims(), None, algorithm="none"), "not accepted"),
    ],
    ids=["expired", "audience", "issuer", "signature", "no-exp", "alg-none"],
)
async def test_bad_tokens_are_401(hs256: Gateway, token: str, message: str) -> None:
    status, body, challenge = await ask(hs256, token)
    assert status == 401
    assert codes(body) == ["UNAUTHENTICATED"]
    assert message in body["errors"][0]["message"]
    assert 'error="invalid_token"' in challenge


class Provider:
    """An identity provider's JWKS endpoint on loopback, counting its fetches."""

    def __init__(self) -> None:
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.fetches = 0
        self.url = ""

    def jwks(self) -> dict[str, Any]:
        rsa_key = RSAAlgorithm.to_jwk(self.rsa.public_key(), as_dict=True)
        ec_key = ECAlgorithm.to_jwk(self.ec.public_key(), as_dict=True)
        shared = {"kty": "oct", "kid": "hmac", "k": OCT_K, "alg": "HS256"}
        return {
            "keys": [
                {**rsa_key, "kid": "rsa-1", "alg": "RS256", "use": "sig"},
                {**ec_key, "kid": "ec-1", "alg": "ES256", "use": "sig"},
                shared,
            ]
        }

    def app(self) -> Starlette:
        async def serve(request: Request) -> JSONResponse:
            self.fetches += 1
            return JSONResponse(self.jwks())

        return Starlette(routes=[Route("/.well-known/jwks.json", serve)])


@pytest.fixture
def provider() -> Iterator[Provider]:
    provider = Provider()
    with serve_in_thread(provider.app()) as url:
        provider.url = url + "/.well-known/jwks.json"
        yield provider


@pytest.fixture
async def jwks_gateway(monkeypatch: pytest.MonkeyPatch, provider: Provider) -> Any:
    settings = gateway_settings(
        monkeypatch,
        GATEWAY_AUTH="true",
        GATEWAY_JWKS_URL=provider.url,
        GATEWAY_JWT_ISSUER=ISSUER,
        GATEWAY_JWT_AUDIENCE=AUDIENCE,
    )
    async with running_gateway(settings) as gateway:
        yield gateway


async def test_rs256_and_es256_tokens_are_checked_against_the_cached_jwks(
    jwks_gateway: Gateway, provider: Provider
) -> None:
    rs = jwt.encode(claims(), provider.rsa, algorithm="RS256", headers={"kid": "rsa-1"})
    es = jwt.encode(
        claims(scope="invoiced:read zoho:read"), provider.ec, "ES256", headers={"kid": "ec-1"}
    )
    for _ in range(3):
        status, body, _ = await ask(jwks_gateway, rs)
        assert status == 200 and codes(body) == ["FORBIDDEN"]
        status, body, _ = await ask(jwks_gateway, es)
        assert status == 200 and "errors" not in body
    assert provider.fetches == 1


async def test_jwks_tokens_with_unknown_keys_or_confused_algorithms_are_401(
    jwks_gateway: Gateway, provider: Provider
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "rsa-1"})
    unknown = jwt.encode(claims(), other, algorithm="RS256", headers={"kid": "rsa-9"})
    # An HMAC token signed with the JWKS's "oct" key: HS256 is not accepted from a JWKS.
    hmac = jwt.encode(claims(), OCT_SECRET, algorithm="HS256", headers={"kid": "hmac"})
    for token in (forged, unknown, hmac):
        status, body, _ = await ask(jwks_gateway, token)
        assert status == 401 and codes(body) == ["UNAUTHENTICATED"]
