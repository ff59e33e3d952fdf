"""Fakturoid API v3: todos, over OAuth client credentials.

``client`` speaks HTTP (token, User-Agent, statuses), ``models`` parses todos,
``paging`` walks the 40-todo pages, ``auth`` keeps the bearer token, ``status`` maps
errors. Nothing here knows GraphQL.
"""
