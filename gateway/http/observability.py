"""How an app is observed: its telemetry built from settings, the ``/metrics`` route,
and the outcome of an answer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Route

from gateway.core.settings import GatewaySettings
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.telemetry import Telemetry
from gateway.observability.tracing import TRACER_NAME, provider_from_env

if TYPE_CHECKING:
    from opentelemetry.trace import TracerProvider

    from gateway.adapters import Adapters


class Observability:
    def __init__(
        self,
        settings: GatewaySettings,
        adapters: Adapters,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        metrics = GatewayMetrics(adapters.breakers) if settings.metrics else None
        # A provider made here from OTEL_* is this app's to flush and shut down.
        self._owned = None if tracer_provider is not None else provider_from_env()
        provider = tracer_provider or self._owned
        tracer = provider.get_tracer(TRACER_NAME) if provider is not None else None
        self.telemetry = Telemetry(metrics, tracer)

    def routes(self) -> list[BaseRoute]:
        metrics = self.telemetry.metrics
        if metrics is None:
            return []
        return [Route("/metrics", metrics.endpoint, methods=["GET"])]

    def shutdown(self) -> None:
        if self._owned is not None:
            self._owned.shutdown()


def outcome_of(response: Mapping[str, Any]) -> tuple[str, tuple[str, ...]]:
    """``ok``, ``partial`` (some root field answered beside errors) or ``error`` (every
    root field null), with the errors' codes."""
    errors = response.get("errors")
    if not errors:
        return "ok", ()
    codes = tuple(
        str((error.get("extensions") or {}).get("code", "INTERNAL_SERVER_ERROR"))
        for error in errors
    )
    data = response.get("data")
    answered = isinstance(data, dict) and any(value is not None for value in data.values())
    return ("partial" if answered else "error"), codes
