"""ReadyDesk invoices and line items in the graph (read-only: ReadyDesk's API has no writes)."""

from gateway.api.cost import counted_list_page, fixed
from gateway.plugin import VendorGraphQL

from .operations import ReadyDeskQuery
from .types import Invoice, LineItem

GRAPHQL = VendorGraphQL(
    query=ReadyDeskQuery,
    costs={
        # `last` without `before` counts back from the total: what `totalCount` costs.
        ("Query", "invoices"): counted_list_page(1),
        ("Query", "invoice"): fixed(1),
        # ReadyDesk's `count_only` call, made only when selected.
        ("InvoiceConnection", "totalCount"): fixed(1),
        # None under `invoices`/`invoice` (the same call, with include_line_items=Y);
        # under node/nodes/_entities one batched by-ID read per page: counted as 1 per page.
        ("Invoice", "lineItems"): fixed(1, per_page=True),
    },
)

__all__ = ["GRAPHQL", "Invoice", "LineItem", "ReadyDeskQuery"]
