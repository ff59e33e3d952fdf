"""API keys, configured only as SHA-256 digests: the gateway never holds a key.

``GATEWAY_API_KEYS`` is either ``name:sha256hex:scope,scope;name:...`` or the path
of a JSON file holding a list of ``{"name": ..., "sha256": ..., "scopes": [...]}``.
Keys are meant to be long random strings (``task-gateway hash-key --generate``),
for which an unsalted SHA-256 is as good as a password hash and far cheaper
per request.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Collection
from pathlib import Path
from typing import Any

import orjson

from gateway.core.principal import Principal, parse_scopes

_DIGEST = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def generate_key() -> str:
    return "tgw_" + secrets.token_urlsafe(32)


class ApiKeys:
    """The configured keys, by digest."""

    def __init__(self, principals: dict[str, Principal]) -> None:
        self._by_digest = principals

    def __len__(self) -> int:
        return len(self._by_digest)

    def verify(self, key: str) -> Principal | None:
        # A lookup by digest reveals nothing of a key through timing: the digest of a
        # guess says nothing about how close the guess is.
        return self._by_digest.get(hash_key(key))

    @classmethod
    def parse(cls, spec: str, vendors: Collection[str]) -> ApiKeys:
        """Keys from the setting's text, or from the JSON file it names; ValueError
        (naming the entry, never its digest) for anything malformed."""
        spec = spec.strip()
        if not spec:
            return cls({})
        if spec.endswith(".json") or spec.startswith(("/", "./")):
            return cls._from_entries(_read_file(Path(spec)), vendors)
        entries: list[dict[str, Any]] = []
        for number, entry in enumerate(filter(None, map(str.strip, spec.split(";"))), 1):
            parts = entry.split(":", 2)
            if len(parts) != 3:
                raise ValueError(f"API key entry {number} is not name:sha256hex:scope,scope")
            name, digest, scopes = parts
            entries.append({"name": name, "sha256": digest, "scopes": scopes.split(",")})
        return cls._from_entries(entries, vendors)

    @classmethod
    def _from_entries(cls, entries: list[Any], vendors: Collection[str]) -> ApiKeys:
        principals: dict[str, Principal] = {}
        names: set[str] = set()
        for number, entry in enumerate(entries, 1):
            if not isinstance(entry, dict):
                raise ValueError(f"API key entry {number} is not an object")
            name, digest, scopes = entry.get("name"), entry.get("sha256"), entry.get("scopes")
            if not isinstance(name, str) or not _NAME.match(name):
                raise ValueError(f"API key entry {number} needs a name of letters, digits, _.@-")
            if name in names:
                raise ValueError(f"API key {name!r} is configured twice")
            if not isinstance(digest, str) or not _DIGEST.match(digest.lower()):
                raise ValueError(
                    f"API key {name!r} needs the key's SHA-256 as 64 hex digits "
                    "(task-gateway hash-key)"
                )
            if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
                raise ValueError(f"API key {name!r} needs a list of scopes")
            try:
                granted = parse_scopes(filter(None, scopes), vendors, strict=True)
            except ValueError as exc:
                raise ValueError(f"API key {name!r}: {exc}") from None
            names.add(name)
            principals[digest.lower()] = Principal(f"key:{name}", granted)
        return cls(principals)


def _read_file(path: Path) -> list[Any]:
    try:
        entries = orjson.loads(path.read_bytes())
    except OSError as exc:
        raise ValueError(f"the API key file {str(path)!r} cannot be read: {exc.strerror}") from None
    except orjson.JSONDecodeError:
        raise ValueError(f"the API key file {str(path)!r} is not valid JSON") from None
    if not isinstance(entries, list):
        raise ValueError(f"the API key file {str(path)!r} must hold a JSON list")
    return entries
