"""The app's change pollers: one per configured vendor that declares a delta read
(``VendorPlugin.change_feed``), unless ``GATEWAY_POLL=false``. See gateway.state.polling."""

from __future__ import annotations

from gateway.adapters import Adapters
from gateway.config import Settings
from gateway.state.changes import ChangeBus
from gateway.state.polling import ChangeFeed, Cursor, Pace, Poller, Pollers, Round
from gateway.upstream.cache.scope import vendor_state


class FreshFeed:
    """A feed whose reads go to the vendor itself: a cached page would hide the very
    changes the poller is looking for."""

    def __init__(self, feed: ChangeFeed) -> None:
        self.feed = feed

    async def read(self, cursor: Cursor | None) -> Round:
        with vendor_state():
            return await self.feed.read(cursor)


def open_pollers(settings: Settings, adapters: Adapters, bus: ChangeBus) -> Pollers:
    own = settings.gateway
    if not own.poll:
        return Pollers([])
    pollers = []
    for plugin in settings.plugins:
        section = settings.section(plugin)
        if plugin.change_feed is None or plugin.vendor not in adapters.configured:
            continue
        pace = Pace.of(
            section.outbound_quotas, share=own.poll_share, interval=section.poll_interval
        )
        feed = FreshFeed(plugin.change_feed(adapters.of(plugin)))
        pollers.append(
            Poller(plugin.vendor, feed, bus, adapters.store, pace, lease_period=own.poll_lease)
        )
    return Pollers(pollers)
