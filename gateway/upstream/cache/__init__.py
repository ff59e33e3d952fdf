"""The response cache for vendor reads (``GATEWAY_CACHE``).

It sits at the upstream seam, under every adapter: a vendor ``GET`` answered with
2xx is kept for the vendor's short TTL (``<VENDOR>_CACHE_TTL``), keyed by the
client and its scopes and the request's URL; any other method to that vendor
drops its entries first and after, in this process and, through Redis pub/sub,
in every other. See ``reads`` (the cache), ``broadcast`` (pub/sub) and ``http``
(``Cache-Control`` and ``ETag`` on GET queries).
"""

from __future__ import annotations

from gateway.upstream.cache.reads import ReadCache, VendorReadCache, cache_scope, vendor_state

__all__ = ["ReadCache", "VendorReadCache", "cache_scope", "vendor_state"]
