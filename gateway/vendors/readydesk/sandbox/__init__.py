"""ReadyDesk sandbox: the help-desk billing API (invoices and line items) with demo data.

Follows vendor-docs/helpdesk-get-invoices.txt and VENDORS.md. Labels as there:
[doc] the vendor's docs, [guess] our inference where the docs are silent.

Endpoint: ``GET`` or ``POST`` (form fields) ``<base>/readydesk/API/default.aspx``.
Variable names ignore case; the query string wins over the form; empty values
count as absent. Every answer is HTTP 200 with ``Content-Type: text/html``
[guess], errors included, so a client must read the body.

Common variables
  key      the API key, ``API_KEY`` here [doc]
  action   ``get_invoices`` | ``get_line_items`` (case-sensitive) [doc]
  output   ``xml`` (default) | ``json`` | ``url`` [guess: the real selector is undocumented]

get_invoices [doc unless marked]
  cid            customer ID, exact or with ``*`` wildcards (``*``, ``ACME*``); case-insensitive
  id             [guess] invoice ID, ``*`` pattern or ``,``/``|`` list; the doc's examples use
                 ``id=*``. One of cid/id is required.
  start_tid, end_tid   inclusive invoice-ID range
  start_cid, end_cid   customer ID >= start_cid; customer ID's prefix <= end_cid (so
                       end_cid=j keeps "jones, bob"); case-insensitive
  start_date, end_date inclusive bounds in server local time (``READYDESK_TIMEZONE``):
                       ``M/D/YYYY``, ``M/D/YYYY H:MM[:SS]``, ``M/D/YYYY h:MM[:SS] AM|PM``, or
                       ISO 8601 (an offset is converted to local). A bare date is midnight,
                       as in SQL: end_date=2/1/2014 excludes invoices later that day.
  date_type      ``I`` invoice_date (default), ``F`` from_date, ``T`` to_date
  include_line_items   ``Y``/``N``
  count          at most this many records (>= 1)
  page           1-based, only with a ``*`` in cid or id plus count (else an error)
  count_only     ``Y``: only the number of matching records, ignoring count/page [guess];
                 its shape is undocumented, so ``app.state.count_shape`` picks one of
                 ``COUNT_SHAPES`` (default ``response``, the write/error wrapper)
  order          one column with an optional `` ASC``/`` DESC`` [doc]: ``ID`` (the doc's
                 example) or an output field name (``total``, ``invoice_date``, ...)
                 [guess: the table's column names], any case. A list (``a,b``), any
                 other name or text is a SQL-style error (``Incorrect syntax near ','.``,
                 ``Invalid column name 'X'.``). Default ``ID``. Rows with equal values
                 come in no promised order (as in SQL): the sandbox orders them by a hash
                 of count and page, so only the ID order pages stably.
  order_direction  ``ASC``/``DESC`` [doc], appended to order as the product does, so
                 ``order=ID DESC&order_direction=ASC`` is a syntax error.

get_line_items
  tid (ticket ID), id (line-item uid), cid (customer ID): at least one; all given must
  match. tid/id take an ID, a ``*`` pattern or a ``,``/``|`` list [guess: the list form],
  so an invoice's ``jobs`` value (``1|2|``) can be sent back as is, by POST if long.
  Ordered by uid. (The gateway sends a single ``id``, the documented form; an
  invoice's line items it reads with include_line_items=Y.)

Invoice fields, in order: invoice_id, customer_id, ticket_id, company_id, company_name,
invoice_date, from_date, to_date, sub_total, tax (percent), total, billing_type
(FT|FJ|V), status (PENDING|PAID), jobs. Line-item fields: uid, tid, cid, cost, date,
title, category, duration, time_unit (Minutes|Hours|Days), notes; under
``line_item_names="write"`` (``READYDESK_SANDBOX_LINE_ITEM_NAMES``) ``id`` is the line
item and ``uid`` its technician, as add_line_item names them [guess: see
wire.LineItemNames]; ``mixed`` alternates the two. All values are
strings: numbers like ``0``, ``8.875``, ``152.5``; ``invoice_date`` and a line item's
``date`` like ``3/31/2014 6:30:55 PM`` in server local time; from/to dates like
``3/1/2014``; jobs like ``1|2|`` (empty when none); absent IDs empty.

Percent-encoding, in every format: customer_id and company_name [doc]; a line item's
cid, title, category and notes [guess]. Encoded as ASP.NET's HttpUtility.UrlEncode
does: UTF-8, lower-case hex, space as ``+`` [guess], so decode with ``unquote_plus``.

Shapes
  XML   ``<?xml version="1.0"?>`` then ``<invoices><invoice><invoice_id>…`` one element
        per line [doc]; with include_line_items=Y each invoice ends with
        ``<line_items><line_item><uid>…</line_item></line_items>`` [guess].
        get_line_items: ``<line_items><line_item>…`` [guess].
  JSON  ``{"invoices":[{"invoice_id":"1",…}]}`` [doc]; with line items each invoice has
        ``"line_items":[{…}]`` [guess]; get_line_items: ``{"line_items":[…]}`` [guess].
  url   one record per line, lines joined by CRLF, ``name=value`` pairs joined by ``&``,
        unencoded fields written raw (``invoice_date=3/31/2014 6:30:55 PM``) [doc for one
        record, guess for several]; an invoice's line items follow it, one per line,
        starting ``uid=`` [guess]. No records: an empty body.
  Wrappers (count_only, errors), always HTTP 200 [guess for errors]:
        ``<?xml version="1.0"?>\\n<response>\\n<count>31</count>\\n</response>``,
        ``{"response":[{"count":"31"}]}``, ``count=31``; the same with ``error``.
        In the url form an error message is everything after ``error=`` on one line.
"""

from __future__ import annotations

from .app import API_KEY, ENDPOINT, create_app
from .query import ORDER_COLUMNS
from .store import TIMEZONE

PREFIX = "/readydesk"

__all__ = ["API_KEY", "ORDER_COLUMNS", "PREFIX", "TIMEZONE", "create_app", "env"]


def env(base_url: str) -> dict[str, str]:
    return {
        "READYDESK_API_URL": base_url.rstrip("/") + PREFIX + ENDPOINT,
        "READYDESK_API_KEY": API_KEY,
        "READYDESK_TIMEZONE": TIMEZONE,
    }
