"""Persisted queries: Apollo's automatic persisted queries (APQ) and a manifest of
persisted documents.

APQ: a client sends ``extensions.persistedQuery = {version: 1, sha256Hash}``
without the document; an unknown hash answers ``PERSISTED_QUERY_NOT_FOUND`` and
the client sends the document with its hash once, which the gateway checks and
keeps (per process, the least recently used dropped past the bound).

A manifest (``GATEWAY_PERSISTED_DOCUMENTS``) turns the gateway into a safelist:
only its documents run, sent by id (the hash field) or as their exact text, and
APQ registration is off, so nobody can add a document at run time. A manifest's
document may also be named the way Relay's network layers name it, ``doc_id``, or
as the GraphQL-over-HTTP draft does, ``documentId``, beside ``variables`` (a body's
field or a GET parameter): the same id as ``sha256Hash``, the manifest's key.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from dataclasses import replace
from pathlib import Path
from typing import Any

from strawberry.http import GraphQLRequestData

from gateway.core.configuration import ConfigurationError
from gateway.core.errors import (
    BadRequest,
    PersistedQueryNotAllowed,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
)

# Where a request names a manifest's document by id instead of an APQ extension.
DOCUMENT_ID_FIELDS = ("doc_id", "documentId")
APOLLO_MANIFEST_FORMAT = "apollo-persisted-query-manifest"
# Documents are bounded by the body limit; all of them together by this.
MAX_STORED_CHARACTERS = 32 * 1024 * 1024


class DocumentStore:
    """Documents by hash, least recently used first out, bounded in count and size."""

    def __init__(self, max_documents: int, max_characters: int = MAX_STORED_CHARACTERS) -> None:
        self.max_documents = max_documents
        self.max_characters = max_characters
        self._documents: OrderedDict[str, str] = OrderedDict()
        self._characters = 0

    def __len__(self) -> int:
        return len(self._documents)

    def get(self, key: str) -> str | None:
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
        return document

    def put(self, key: str, document: str) -> None:
        if key in self._documents:
            self._documents.move_to_end(key)
            return
        self._documents[key] = document
        self._characters += len(document)
        while len(self._documents) > self.max_documents or (
            self._characters > self.max_characters and len(self._documents) > 1
        ):
            _, dropped = self._documents.popitem(last=False)
            self._characters -= len(dropped)


_VARIABLE = "GATEWAY_PERSISTED_DOCUMENTS"


def _read_json(path: str | Path) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise ConfigurationError(f"{_VARIABLE}: cannot read {path}: {reason}") from None
    except ValueError as exc:
        # JSONDecodeError and UnicodeDecodeError: where it broke, never the file's text.
        where = f" (line {exc.lineno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ConfigurationError(f"{_VARIABLE}: {path} is not JSON in UTF-8{where}") from None


def load_manifest(path: str | Path) -> dict[str, str]:
    """Documents by id from an Apollo manifest (``{"format":
    "apollo-persisted-query-manifest", "operations": [{"id", "body"}, ...]}``) or a
    Relay one (``{"<id>": "<document>"}``). A bad file stops the gateway at start-up."""
    manifest = _read_json(path)
    if not isinstance(manifest, dict):
        raise ConfigurationError(f"{_VARIABLE}: {path} is not a JSON object.")
    if manifest.get("format") == APOLLO_MANIFEST_FORMAT:
        operations = manifest.get("operations")
        if not isinstance(operations, list) or not all(
            isinstance(op, dict)
            and isinstance(op.get("id"), str)
            and isinstance(op.get("body"), str)
            for op in operations
        ):
            raise ConfigurationError(
                f"{_VARIABLE}: {path}: `operations` must be a list of "
                "objects with string `id` and `body`."
            )
        return {op["id"]: op["body"] for op in operations}
    if not all(isinstance(key, str) and isinstance(value, str) for key, value in manifest.items()):
        raise ConfigurationError(
            f"{_VARIABLE}: {path} is neither an Apollo manifest nor a "
            "Relay one (an object of id to document text)."
        )
    return dict(manifest)


def sha256_hex(document: str) -> str:
    return hashlib.sha256(document.encode("utf-8")).hexdigest()


class PersistedQueries:
    """Resolves a request's document from its ``persistedQuery`` extension."""

    def __init__(
        self, *, automatic: bool, max_documents: int, manifest: dict[str, str] | None = None
    ) -> None:
        self.automatic = automatic and manifest is None
        self.store = DocumentStore(max_documents)
        self.manifest = manifest
        self._manifest_documents = frozenset(manifest.values()) if manifest else frozenset()

    def lift_document_id(self, data: dict[str, Any]) -> dict[str, Any]:
        """A request's ``doc_id`` (or ``documentId``) as the persisted-query extension the
        manifest lookup reads; the parsed body or query string, before strawberry reads it
        (it keeps no other field)."""
        named = [data[field] for field in DOCUMENT_ID_FIELDS if data.get(field) is not None]
        if not named:
            return data
        if self.manifest is None:
            raise BadRequest(
                "This gateway has no manifest of persisted documents to look `doc_id` up "
                "in: send the document's text as `query`."
            )
        key = named[0]
        if not isinstance(key, str) or not key:
            raise BadRequest("A persisted document's id must be a non-empty string.")
        if any(other != key for other in named):
            raise BadRequest("`doc_id` and `documentId` name two different documents.")
        extensions = data.get("extensions")
        if not isinstance(extensions, dict | None):
            return data  # strawberry refuses it with its own message
        requested = (extensions or {}).get("persistedQuery")
        if requested is not None and _hash_of(requested) != key:
            raise BadRequest("`doc_id` and `extensions.persistedQuery` name two documents.")
        lifted = {"version": 1, "sha256Hash": key}
        return {**data, "extensions": {**(extensions or {}), "persistedQuery": lifted}}

    def resolve(self, request: GraphQLRequestData) -> GraphQLRequestData:
        query = request.query
        requested = (request.extensions or {}).get("persistedQuery")
        if requested is None:
            if self.manifest is not None and query is not None:
                self._check_safelisted(query)
            return request
        key = _hash_of(requested)
        if self.manifest is not None:
            document = self.manifest.get(key)
            if document is None:
                raise PersistedQueryNotFound()
            if query is not None and query != document:
                raise BadRequest(f"The query is not the persisted document {key}.")
            return replace(request, query=document)
        if not self.automatic:
            raise PersistedQueryNotSupported()
        if query is None:
            stored = self.store.get(key.lower())
            if stored is None:
                raise PersistedQueryNotFound()
            return replace(request, query=stored)
        if sha256_hex(query) != key.lower():
            raise BadRequest("provided sha does not match query")
        self.store.put(key.lower(), query)
        return request

    def _check_safelisted(self, query: str) -> None:
        if query not in self._manifest_documents:
            raise PersistedQueryNotAllowed(
                "This gateway runs only the persisted documents of its manifest: send a "
                "document's id as `extensions.persistedQuery.sha256Hash`."
            )


def _hash_of(requested: Any) -> str:
    if not isinstance(requested, dict):
        raise BadRequest("`extensions.persistedQuery` must be an object.")
    if requested.get("version") != 1:
        raise BadRequest("Unsupported persisted query version: only version 1 is.")
    key = requested.get("sha256Hash")
    if not isinstance(key, str) or not key:
        raise BadRequest("`extensions.persistedQuery.sha256Hash` must be a non-empty string.")
    return key
