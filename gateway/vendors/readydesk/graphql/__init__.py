"""ReadyDesk invoices and line items in the graph (read-only: ReadyDesk's API has no writes)."""

from .operations import ReadyDeskQuery
from .types import Invoice, LineItem

__all__ = ["Invoice", "LineItem", "ReadyDeskQuery"]
