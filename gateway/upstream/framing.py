"""A vendor call's httpx request, built from what is constant per vendor.

``httpx.AsyncClient.build_request`` merges the client's base URL, headers, cookies,
parameters and timeout into every request: the URL alone is parsed three times (the
path given, the path joined to the base, the query merged in), which cost about a
twentieth of the CPU of a request that makes one vendor call. Everything but the
path, the query and the call's own headers is the same for every call of a vendor,
so :class:`RequestFraming` reads it from the client once and parses each URL once.
Calls it cannot frame that way (an absolute URL, a query in the path, per-call
cookies or timeouts, parameters on the client) go through ``build_request`` as before.

The client is read when the vendor's :class:`~gateway.upstream.client.Upstream` is
made: adapters set their headers and auth on it before that.

:class:`VendorClient` keeps no cookies: the gateway calls each vendor with the same
credentials on behalf of every client, so a cookie one answer set must not ride on
the next client's calls, and reading ``Set-Cookie`` headers into a jar (httpx builds
two ``urllib`` objects per response for it) is spent for nothing.
"""

from __future__ import annotations

import base64
from typing import Any

import httpx

from gateway.upstream.transport import VendorTransport

# The keyword arguments of build_request that a framed request takes as they are.
_FRAMED = frozenset({"params", "headers", "content", "data", "json"})
# The methods httpx gives a Content-Length even with no body.
_BODIED = frozenset({"POST", "PUT", "PATCH"})
# Parsed URLs kept per vendor: a vendor is called at a few paths and the pages of a
# few queries, and httpx.URL is immutable; past this many the cache starts over.
URL_CACHE_SIZE = 1024


class RequestFraming:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        base = client.base_url
        # Framed only under a plain base URL: its text, ending in "/", is the prefix
        # (httpx ends its path in "/", but writes a bare host's "/" as nothing).
        text = str(base)
        plain = not base.query and not base.fragment
        self.base = (text if text.endswith("/") else text + "/") if plain else None
        self.headers = httpx.Headers(client.headers)
        # What httpx.Request adds to a call with no body, Host first, made once.
        self.host = (b"Host", base.netloc)
        self.bodiless = httpx.Headers([self.host, *self.headers.raw])
        self.timeout = client.timeout.as_dict()
        self.plain = not client.params and not client.cookies
        self._urls: dict[tuple[str, Any], httpx.URL] = {}

    def build(self, method: str, url: str, **kwargs: Any) -> tuple[httpx.Request, str]:
        """The request, and the path ``url`` names (what accounting records: never the
        query, where some vendors take keys)."""
        base = self.base
        if base is None or not self._frames(url, kwargs):
            target = httpx.URL(url)
            return self.client.build_request(method, target, **kwargs), target.path
        target = self._target(base, url, kwargs.pop("params", None))
        headers = kwargs.pop("headers", None)
        extensions = {"timeout": self.timeout}
        if kwargs or method in _BODIED:
            merged = self.headers.copy() if headers else self.headers
            if headers:
                merged.update(headers)
            request = httpx.Request(method, target, headers=merged, extensions=extensions, **kwargs)
        else:
            # No body: the request is made from its parts, its headers as httpx would
            # frame them, known in advance.
            request = httpx.Request(
                method,
                target,
                headers=self._bodiless(headers) if headers else self.bodiless,
                stream=httpx.ByteStream(b""),
                extensions=extensions,
            )
            request.read()
        # No query or fragment in it: the path as given, decoded as httpx would.
        return request, url if "%" not in url else httpx.URL(url).path

    def _target(self, base: str, url: str, params: Any) -> httpx.URL:
        """The URL of ``url`` under ``base`` with ``params``, parsed once per vendor."""
        key = (url, _params_key(params))
        if key[1] is None:
            return httpx.URL(_joined(base, url, params))
        target = self._urls.get(key)
        if target is None:
            if len(self._urls) >= URL_CACHE_SIZE:
                self._urls.clear()
            target = self._urls[key] = httpx.URL(_joined(base, url, params))
        return target

    def _bodiless(self, headers: Any) -> httpx.Headers:
        merged = self.headers.copy()
        merged.update(headers)
        return merged if "host" in merged else httpx.Headers([self.host, *merged.raw])

    def _frames(self, url: str, kwargs: dict[str, Any]) -> bool:
        """Whether ``url`` and ``kwargs`` make the same request framed as built."""
        return (
            self.plain
            and isinstance(url, str)
            # A relative path: no scheme, host, query or fragment of its own.
            and ":" not in url
            and "?" not in url
            and "#" not in url
            and not url.startswith("//")
            and kwargs.keys() <= _FRAMED
        )


def _joined(base: str, url: str, params: Any) -> str:
    text = base + url.lstrip("/")
    return text + "?" + str(httpx.QueryParams(params)) if params else text


def _params_key(params: Any) -> tuple[Any, ...] | None:
    """``params`` as a cache key, or None when they cannot be one. Each value's type is
    part of it: ``True`` and ``1`` are equal, but httpx writes them differently."""
    if not params:
        return ()
    if not isinstance(params, dict):
        return None
    key = tuple((name, type(value), value) for name, value in params.items())
    try:
        hash(key)
    except TypeError:  # a list of values, say
        return None
    return key


def basic_authorization(username: str, password: str) -> str:
    """HTTP Basic's ``Authorization`` value, as ``httpx.BasicAuth`` sends it, for a
    client's default headers: a credential that never changes needs no auth flow."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


class _NoCookies(httpx.Cookies):
    """An empty jar that keeps nothing it is offered."""

    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class VendorClient(httpx.AsyncClient):
    """httpx's client, keeping no vendor's cookies (see the module's docstring)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._jar: httpx.Cookies = _NoCookies()
        transport = kwargs.get("transport")
        # The production transport, which a call may go through directly when the
        # client adds nothing to it (gateway.upstream.client); none behind a proxy
        # taken from the environment.
        self.direct = transport if isinstance(transport, VendorTransport) else None
        if self._mounts:
            self.direct = None

    @property
    def cookies(self) -> httpx.Cookies:
        return self._jar

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        raise TypeError("a vendor client keeps no cookies")
