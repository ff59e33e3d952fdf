"""Operability: request ids, Prometheus metrics, OpenTelemetry traces and JSON logs.

Every HTTP request gets a :class:`~gateway.observability.scope.RequestState` (made by
:class:`~gateway.observability.scope.RequestScopes` in front of the app); the layers
below the GraphQL layer find it in a context variable to label their metrics, spans
and log lines without it being passed through every adapter.
"""
