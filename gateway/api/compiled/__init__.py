"""Compiled execution: each validated (document, operation name) is compiled once into
a plan that runs a query without graphql-core's generic per-field machinery
(``GATEWAY_EXECUTOR=compiled``); what a plan does not cover runs on graphql-core."""
