"""ReadyDesk help-desk billing: invoices and their line items.

``wire`` recognises and reads the three output formats, ``models`` turns
records into typed values, ``query`` turns an invoice query into request
variables, ``client`` speaks to ``default.aspx``.
"""
