"""Zoho Invoice v3: projects and their tasks, behind OAuth refresh tokens.

Wire facts (vendor docs and VENDORS.md): the API lives at
``https://www.zohoapis.<dc>/invoice/v3`` and the OAuth server at
``https://accounts.zoho.<dc>``; calls carry ``Authorization:
Zoho-oauthtoken <token>`` and ``X-com-zoho-invoice-organizationid``; answers
are ``{"code", "message", ...}`` envelopes; lists page with ``page``/``per_page``
and say ``page_context.has_more_page``.
"""
