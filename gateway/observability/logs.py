"""Log lines as JSON (or plain text), each with the id of the request it belongs to.

:func:`logging_config` is the one logging setup of ``serve``, ``demo`` and
``sandbox`` (applied by uvicorn from ``gateway.http.server``): uvicorn's own loggers and
the ``gateway`` logger, whose INFO records (operation lines, breaker changes, token
refreshes) would otherwise be dropped by the root logger's WARNING level.

The request id is read from the request's scope when the record is formatted:
handlers here write synchronously, in the task that logged.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from typing import Any

import orjson
from uvicorn.config import LOGGING_CONFIG

from gateway.observability.scope import current_request_id

LOG_FORMATS = ("json", "text")

# Attributes every LogRecord has; anything else on a record came in ``extra``.
_STANDARD_ATTRIBUTES = frozenset(
    {
        *logging.LogRecord("", 0, "", 0, "", None, None).__dict__,
        "message",
        "asctime",
        "request_id",
        # uvicorn's coloured copy of the message.
        "color_message",
    }
)
_ACCESS_FIELDS = ("client", "method", "path", "http_version", "status")


def _request_id(record: logging.LogRecord) -> str | None:
    given = getattr(record, "request_id", None)
    return given if isinstance(given, str) else current_request_id()


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, request_id, the record's
    ``extra`` fields, and for uvicorn's access lines the request's parts."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = _request_id(record)
        if request_id is not None:
            entry["request_id"] = request_id
        if record.name == "uvicorn.access" and isinstance(record.args, tuple):
            # (client, method, path, http version, status), the path already redacted.
            entry.update(zip(_ACCESS_FIELDS, record.args, strict=False))
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return orjson.dumps(entry, default=str).decode()


class TextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, with the request id when there is one."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(request)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        request_id = _request_id(record)
        record.request = f" [{request_id}]" if request_id else ""
        return super().format(record)


def logging_config(
    *, level: str = "info", log_format: str = "json", access_filters: list[str] | None = None
) -> dict[str, Any]:
    """uvicorn's logging setup in ``log_format``, plus the ``gateway`` logger at ``level``."""
    if log_format not in LOG_FORMATS:
        raise ValueError(f"log format must be one of {', '.join(LOG_FORMATS)}")
    config = copy.deepcopy(LOGGING_CONFIG)
    formatter_class = JsonFormatter if log_format == "json" else TextFormatter
    formatter = {"()": f"{__name__}.{formatter_class.__name__}"}
    config["formatters"] = {"default": formatter, "access": dict(formatter)}
    loggers = config["loggers"]
    if access_filters:
        loggers["uvicorn.access"]["filters"] = access_filters
    # Its own handler: the root logger stays unconfigured (embedding apps and pytest
    # own it), and records still propagate to whatever the root does have.
    loggers["gateway"] = {"handlers": ["default"], "level": level.upper(), "propagate": True}
    return config
