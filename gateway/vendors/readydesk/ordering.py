"""Stable invoice order on top of ReadyDesk's single-column ``order``.

ReadyDesk sorts by one column and SQL returns rows with equal values in any
order it likes, which may differ between two calls. The gateway therefore
treats each run of equal values as unordered and sorts it by invoice ID
itself, and only trusts a run once it has seen the row after it: the last run
of a read may continue past the rows that were asked for.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from itertools import groupby

from .models import ReadyDeskInvoice
from .query import UNIQUE_COLUMNS, InvoiceSortField

SortValue = object

# What SQL Server compares for each column: text ignoring case (the default
# collation), missing values as one value.
_VALUES: Mapping[InvoiceSortField, Callable[[ReadyDeskInvoice], SortValue]] = {
    InvoiceSortField.ID: lambda inv: inv.id,
    InvoiceSortField.CUSTOMER_ID: lambda inv: inv.customer_id.casefold(),
    InvoiceSortField.TICKET_ID: lambda inv: inv.ticket_id,
    InvoiceSortField.COMPANY_NAME: lambda inv: (inv.company_name or "").casefold(),
    InvoiceSortField.INVOICE_DATE: lambda inv: inv.invoice_date,
    InvoiceSortField.FROM_DATE: lambda inv: inv.from_date,
    InvoiceSortField.TO_DATE: lambda inv: inv.to_date,
    InvoiceSortField.SUB_TOTAL: lambda inv: inv.sub_total,
    InvoiceSortField.TOTAL: lambda inv: inv.total,
    InvoiceSortField.BILLING_TYPE: lambda inv: inv.billing_type,
    InvoiceSortField.STATUS: lambda inv: inv.status,
}


def settled_prefix(
    rows: list[ReadyDeskInvoice], field: InvoiceSortField, *, exhausted: bool
) -> list[ReadyDeskInvoice]:
    """The rows whose place is certain, ties ordered by invoice ID.

    ``rows`` is a prefix of the server's order. Unless the list is
    ``exhausted``, the last run of equal values is dropped (a unique column has
    no runs): rows the read did not reach may belong to it, and sort before some
    of its members by ID.
    """
    value_of = _VALUES[field]
    runs = [sorted(run, key=lambda inv: inv.id) for _, run in groupby(rows, key=value_of)]
    if not exhausted and runs and field not in UNIQUE_COLUMNS:
        runs.pop()
    return [invoice for run in runs for invoice in run]
