"""ReadyDesk's delta read, for the change poller (gateway.state.polling).

ReadyDesk's invoices carry no modification time: their only dates are when they
were generated and the range they bill, and ``count_only`` counts rows but would not
move when a person marks an invoice paid. So the poller sweeps: every invoice in one
``get_invoices`` call (a wildcard customer and no count), compared with the last
sweep. That sees creations, edits (status, totals) and deletions alike. ReadyDesk
has no call quota, so the sweep runs at the configured ``READYDESK_POLL_INTERVAL``.
"""

from __future__ import annotations

import hashlib

from gateway.core.ids import encode_id
from gateway.state.polling import Cursor, Round, versions_diff

from .client import ReadyDeskAdapter
from .models import ReadyDeskInvoice
from .vendor import READYDESK

TYPE_NAME = "Invoice"  # the GraphQL type an invoice's global id resolves to


def fingerprint(record: object) -> str:
    """A short digest of a parsed record: equal while no field of it changed."""
    return hashlib.blake2b(repr(record).encode(), digest_size=8).hexdigest()


class ReadyDeskChanges:
    def __init__(self, adapter: ReadyDeskAdapter) -> None:
        self.adapter = adapter

    async def read(self, cursor: Cursor | None) -> Round:
        rows = await self.adapter.every_invoice()
        seen = {
            encode_id(READYDESK, TYPE_NAME, row.id): fingerprint(row)
            for row in rows
            if isinstance(row, ReadyDeskInvoice)
        }
        before: dict[str, str] = (cursor or {}).get("seen", {})
        return Round(versions_diff(before, seen), {"seen": seen}, calls=1)
