"""ReadyDesk billing in the graph: the `Invoice` and `LineItem` types and their enums."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import strawberry
from strawberry.types import Info

from gateway.api.context import Context
from gateway.api.node import node_resolver
from gateway.api.relay import Node
from gateway.core.errors import NotFound
from gateway.core.ids import INT32_MAX, GlobalId, encode_id, expect_id
from gateway.core.money import money

from ..loaders import KEY
from ..models import IncludedLineItems, ReadyDeskInvoice, ReadyDeskLineItem
from ..vendor import READYDESK

INVOICE = "Invoice"
LINE_ITEM = "LineItem"


def _money(info: Info[Context, None], amount: Decimal) -> Decimal:
    # ReadyDesk's records name no currency: the help desk's (READYDESK_CURRENCY) applies.
    return money(amount, info.context.adapters.of(KEY).currency)


@strawberry.enum(description="Whether a ReadyDesk invoice has been paid.")
class InvoiceStatus(enum.Enum):
    PENDING = "PENDING"
    PAID = "PAID"


@strawberry.enum(description="How a ReadyDesk invoice's costs were worked out.")
class InvoiceBillingType(enum.Enum):
    FIXED_PER_TICKET = "FIXED_PER_TICKET"
    FIXED_PER_JOB = "FIXED_PER_JOB"
    VARIABLE_PER_JOB = "VARIABLE_PER_JOB"


@strawberry.enum(description="The unit of a ReadyDesk line item's duration.")
class LineItemTimeUnit(enum.Enum):
    MINUTES = "MINUTES"
    HOURS = "HOURS"
    DAYS = "DAYS"


@strawberry.type(description="One piece of billed work (a job) on a ReadyDesk ticket.")
class LineItem(Node):
    id: strawberry.ID
    line_item_id: int = strawberry.field(description="The line item's own ID in ReadyDesk.")
    ticket_id: int
    customer_id: str
    cost_amount: strawberry.Private[Decimal]
    date: datetime
    title: str
    category: str
    duration: Decimal = strawberry.field(description="How long, in `timeUnit`s.")
    time_unit: LineItemTimeUnit
    notes: str
    technician_id: str | None = strawberry.field(
        description="The technician who logged the work, decoded; null when ReadyDesk does "
        "not send it (it names line-item fields in two ways, and only one carries it)."
    )

    @strawberry.field(description="In the help desk's currency, with its minor units.")
    def cost(self, info: Info[Context, None]) -> Decimal:
        return _money(info, self.cost_amount)

    @classmethod
    def from_model(cls, item: ReadyDeskLineItem) -> LineItem:
        return cls(
            id=strawberry.ID(encode_id(READYDESK, LINE_ITEM, item.id)),
            line_item_id=item.id,
            ticket_id=item.ticket_id,
            customer_id=item.customer_id,
            cost_amount=item.cost,
            date=item.date,
            title=item.title,
            category=item.category,
            duration=item.duration,
            time_unit=LineItemTimeUnit[item.time_unit.name],
            notes=item.notes,
            technician_id=item.technician_id,
        )


@strawberry.federation.type(
    keys=["id"],
    description="A ReadyDesk help-desk billing invoice. Dates are in the help desk's time zone.",
)
class Invoice(Node):
    id: strawberry.ID
    invoice_id: int = strawberry.field(description="The invoice's ID in ReadyDesk.")
    customer_id: str = strawberry.field(description="The ReadyDesk customer ID, decoded.")
    ticket_id: int | None
    company_id: int | None
    company_name: str | None = strawberry.field(description="Decoded; null when empty.")
    invoice_date: datetime = strawberry.field(description="When the invoice was generated.")
    from_date: date = strawberry.field(description="First day of the billed period.")
    to_date: date = strawberry.field(description="Last day of the billed period.")
    sub_total_amount: strawberry.Private[Decimal]
    tax_percent: Decimal = strawberry.field(description="The tax rate applied, in percent.")
    total_amount: strawberry.Private[Decimal]
    billing_type: InvoiceBillingType
    status: InvoiceStatus
    jobs: list[int] = strawberry.field(
        description="The uids of the invoice's line items (ReadyDesk's `jobs`)."
    )
    # The line items read with the invoice (include_line_items=Y), if they were.
    included: strawberry.Private[IncludedLineItems | None] = None

    @strawberry.field(
        description="The invoice's line items, read in the same call as the invoice when "
        "selected in `invoices` or `invoice`; through `node`/`_entities`, one more call for "
        "all such invoices. Null (with an error) when they cannot be read."
    )
    async def line_items(self, info: Info[Context, None]) -> list[LineItem] | None:
        included = self.included
        if included is None:
            loader = info.context.loaders.of(KEY).invoice_with_line_items
            invoice = await loader.load(self.invoice_id)
            if invoice is None or invoice.line_items is None:
                raise NotFound(f"No Invoice with id {self.id!r}.", vendor=READYDESK)
            included = invoice.line_items
        return [LineItem.from_model(item) for item in included.unwrap()]

    @strawberry.field(description="In the help desk's currency, with its minor units.")
    def sub_total(self, info: Info[Context, None]) -> Decimal:
        return _money(info, self.sub_total_amount)

    @strawberry.field(description="In the help desk's currency, with its minor units.")
    def total(self, info: Info[Context, None]) -> Decimal:
        return _money(info, self.total_amount)

    @classmethod
    def from_model(cls, invoice: ReadyDeskInvoice) -> Invoice:
        return cls(
            id=strawberry.ID(encode_id(READYDESK, INVOICE, invoice.id)),
            invoice_id=invoice.id,
            customer_id=invoice.customer_id,
            ticket_id=invoice.ticket_id,
            company_id=invoice.company_id,
            company_name=invoice.company_name,
            invoice_date=invoice.invoice_date,
            from_date=invoice.from_date,
            to_date=invoice.to_date,
            sub_total_amount=invoice.sub_total,
            tax_percent=invoice.tax_percent,
            total_amount=invoice.total,
            billing_type=InvoiceBillingType[invoice.billing_type.name],
            status=InvoiceStatus[invoice.status.name],
            jobs=list(invoice.jobs),
            included=invoice.line_items,
        )

    @classmethod
    async def resolve_reference(
        cls, info: Info[Context, None], id: strawberry.ID
    ) -> Invoice | None:
        return await load_invoice(info.context, expect_id(id, READYDESK, INVOICE))


def numeric_key(global_id: GlobalId) -> int:
    # Invoice and line-item ids are served as GraphQL Ints [guess: ReadyDesk's SQL
    # Server identity columns are 32-bit]; a larger one names nothing.
    return global_id.number(INT32_MAX)


@node_resolver(INVOICE, READYDESK)
async def load_invoice(context: Context, global_id: GlobalId) -> Invoice | None:
    invoice = await context.loaders.of(KEY).invoice.load(numeric_key(global_id))
    return Invoice.from_model(invoice) if invoice else None


@node_resolver(LINE_ITEM, READYDESK)
async def load_line_item(context: Context, global_id: GlobalId) -> LineItem | None:
    item = await context.loaders.of(KEY).line_item.load(numeric_key(global_id))
    return LineItem.from_model(item) if item else None
