"""Operability: request ids, Prometheus metrics, OpenTelemetry traces and JSON logs.

Every HTTP request gets a :class:`~gateway.observability.scope.RequestScope` in a
context variable (set by :class:`~gateway.observability.scope.RequestScopes` in
front of the app); the layers below read it to label their metrics, spans and log
lines without any of them being passed through the GraphQL layer.
"""
