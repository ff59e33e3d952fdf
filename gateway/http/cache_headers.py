"""``Cache-Control``, ``Age`` and ``ETag`` on GET queries, and ``If-None-Match`` -> 304.

The operation still runs (its reads mostly served by the read cache): a 304
saves the client the body, and the validator is the body itself, so a client
never keeps an answer the gateway would not give it now. ``Age`` is the oldest
vendor part's age and ``max-age`` what is left of the first fresh window to end
(docs/freshness.md), so a client's cache never holds an answer past the windows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import orjson
from starlette.responses import Response

from gateway.observability.scope import OperationReads


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return etag in candidates or "*" in candidates


def _has_errors(body: bytes) -> bool:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return True
    return not isinstance(answer, dict) or bool(answer.get("errors"))


def cache_headers(
    response: Response,
    reads: OperationReads,
    if_none_match: str | None,
    *,
    caching: bool,
    vary: Iterable[str],
) -> Response:
    """``response`` (a GET query's) with its validators, or a 304 when the client has it.
    ``vary``: every request header the answer depends on besides the URL."""
    if "json" not in response.headers.get("content-type", ""):
        return response  # the GraphiQL page, not an answer
    body = bytes(response.body)
    if response.status_code != 200 or _has_errors(body):
        # An error may be gone on the next try: never kept, never validated.
        response.headers["Cache-Control"] = "no-store"
        return response
    max_age = int(reads.max_age) if caching else 0
    control = f"private, max-age={max_age}" if max_age > 0 else "private, no-cache"
    etag = etag_of(body)
    response.headers["Cache-Control"] = control
    response.headers["Age"] = str(int(reads.age))
    response.headers["ETag"] = etag
    # A browser must not reuse an answer for another client (whatever header its
    # credential travels in) or another media type.
    for header in vary:
        response.headers.add_vary_header(header)
    if if_none_match is None or not _matches(if_none_match, etag):
        return response
    headers = {
        "Cache-Control": control,
        "Age": response.headers["Age"],
        "ETag": etag,
        "Vary": response.headers["Vary"],
    }
    return Response(status_code=304, headers=headers)
