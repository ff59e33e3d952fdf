"""ReadyDesk help-desk billing: invoices and their line items.

``_wire`` recognises and reads the three output formats, ``_models`` turns
records into typed values, ``_query`` turns an invoice query into request
variables, ``_adapter`` speaks to ``default.aspx``.
"""

from __future__ import annotations

from gateway.vendors.readydesk._adapter import DEFAULT_OUTPUT, ReadyDeskAdapter
from gateway.vendors.readydesk._models import (
    BillingType,
    IncludedLineItems,
    InvoiceStatus,
    ReadyDeskInvoice,
    ReadyDeskLineItem,
    TimeUnit,
)
from gateway.vendors.readydesk._query import (
    ORDER_COLUMNS,
    DateField,
    InvoiceQuery,
    InvoiceSortField,
    customer_range_is_empty,
    literal_customer_id_problem,
    plan_pages,
)
from gateway.vendors.readydesk._scan import Scanned, ScanPage, ScanPosition
from gateway.vendors.readydesk._wire import OUTPUT_FORMATS, OutputFormat, parse_document

__all__ = [
    "DEFAULT_OUTPUT",
    "ORDER_COLUMNS",
    "OUTPUT_FORMATS",
    "BillingType",
    "DateField",
    "IncludedLineItems",
    "InvoiceQuery",
    "InvoiceSortField",
    "InvoiceStatus",
    "OutputFormat",
    "ReadyDeskAdapter",
    "ReadyDeskInvoice",
    "ReadyDeskLineItem",
    "ScanPage",
    "ScanPosition",
    "Scanned",
    "TimeUnit",
    "customer_range_is_empty",
    "literal_customer_id_problem",
    "parse_document",
    "plan_pages",
]
