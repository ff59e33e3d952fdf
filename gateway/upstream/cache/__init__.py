"""The shared read cache for vendor reads (``GATEWAY_CACHE``, on by default).

It sits at the upstream seam, under every adapter: a vendor ``GET`` answered with 2xx
is kept for every client, by what the vendor answers to (``entries``), in this
process's memory or in Redis (``redis_entries``); it is answered while fresh, answered
and refreshed in the background for a while after, and stands in for a failing vendor
for longer (``freshness``, the vendor's windows). Any other method to that vendor, and
any change event, drops its entries everywhere. See docs/freshness.md.
"""

from __future__ import annotations

from gateway.upstream.cache.freshness import Freshness
from gateway.upstream.cache.reads import ReadCache, VendorReadCache
from gateway.upstream.cache.scope import vendor_state

__all__ = ["Freshness", "ReadCache", "VendorReadCache", "vendor_state"]
