"""The uvicorn server that `serve`, `demo` and `sandbox` all run.

What uvicorn does not do on its own:

- a time limit on reading a request's headers: uvicorn's keep-alive timer only
  runs between requests, so a client that opens a connection and trickles a
  header line now and then (slowloris) would hold it for ever. The protocol
  below arms a timer when a connection opens and when each new request starts,
  and drops the connection if the headers are not complete in time;
- one logging setup (JSON lines with the request id, ``gateway.*`` INFO records
  included: gateway.observability.logs);
- an access log without secrets: some vendors take keys in the query string
  (``?key=``, and the demo gateway calls its sandboxes on its own port), so the
  values of sensitive query parameters are redacted in every ``uvicorn.access``
  record.
"""

from __future__ import annotations

import asyncio
import logging
import logging.config
import re
from typing import Any

import uvicorn
from starlette.types import ASGIApp
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.supervisors import Multiprocess

from gateway.observability.logs import logging_config

SENSITIVE_PARAMETERS = frozenset(
    {
        "key",
        "api_key",
        "apikey",
        "token",
        "access_token",
        "refresh_token",
        "secret",
        "client_secret",
        "password",
        "code",
        "authtoken",
        "signature",
    }
)
REDACTED = "REDACTED"

_PARAMETER = re.compile(r"(?P<name>[^&=]*)=(?P<value>[^&]*)")


def redact_query(path: str) -> str:
    """``path?query`` with the values of sensitive parameters replaced."""
    base, mark, query = path.partition("?")
    if not mark:
        return path

    def redact(match: re.Match[str]) -> str:
        name = match["name"]
        # Names may arrive percent-encoded or with a `[]` suffix; compare the bare word.
        bare = re.sub(r"%[0-9A-Fa-f]{2}|\[\]", "", name).lower()
        return f"{name}={REDACTED}" if bare in SENSITIVE_PARAMETERS else match.group(0)

    return f"{base}?{_PARAMETER.sub(redact, query)}"


class RedactQuerySecrets(logging.Filter):
    """Rewrites uvicorn access records: ``(client, method, path, version, status)``."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def log_config(level: str = "info", log_format: str = "json") -> dict[str, Any]:
    """The logging setup of serve, demo and sandbox (gateway.observability.logs), with
    the redacting filter on the access logger itself, so every handler (and caplog)
    sees only redacted records."""
    config = logging_config(
        level=level, log_format=log_format, access_filters=["redact_query_secrets"]
    )
    config.setdefault("filters", {})["redact_query_secrets"] = {
        "()": f"{__name__}.RedactQuerySecrets"
    }
    return config


def configure_logging(level: str = "info", log_format: str = "json") -> None:
    """Apply the server's logging setup now, so lines written before uvicorn starts (the
    start-up report) already use it; uvicorn applies the same setup again."""
    logging.config.dictConfig(log_config(level, log_format))


class ServerConfig(uvicorn.Config):
    """uvicorn's configuration, with the time a client has to send a request's headers.

    A module-level class, so that it travels to worker processes (`serve --workers N`),
    which receive their configuration pickled."""

    def __init__(self, app: ASGIApp | str, *, header_timeout: float, **options: Any) -> None:
        super().__init__(app, **options)
        self.header_timeout = header_timeout


def _header_timeout(config: uvicorn.Config) -> float:
    if isinstance(config, ServerConfig):
        return config.header_timeout
    # A config built elsewhere (a test's own uvicorn.Config) gets GATEWAY_HEADER_TIMEOUT.
    from gateway.core.settings import GatewaySettings

    return GatewaySettings().header_timeout


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, dropping connections whose headers are too slow.

    A module-level class (not a closure) so that uvicorn can hand it to worker
    processes (`serve --workers N`), which receive their configuration pickled.
    """

    _header_timer: asyncio.TimerHandle | None = None
    # True from the connection (or a request's first byte) until its headers are in.
    _awaiting_headers = True

    def __init__(self, config: uvicorn.Config, *args: Any, **kwargs: Any) -> None:
        super().__init__(config, *args, **kwargs)
        self._header_timeout = _header_timeout(config)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_timer()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._awaiting_headers = True
        if self._header_timer is None:
            self._arm_header_timer()  # the first bytes of a further request

    def on_headers_complete(self) -> None:
        self._awaiting_headers = False
        self._disarm_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self._header_timer = self.loop.call_later(self._header_timeout, self._headers_too_slow)

    def _disarm_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self._awaiting_headers and not self.transport.is_closing():
            self.logger.info("Closing a connection whose request headers were too slow.")
            self.transport.close()


def server_config(
    app: ASGIApp | str,
    *,
    host: str,
    port: int,
    header_timeout: float,
    access_log: bool = True,
    log_level: str = "info",
    log_format: str = "json",
    workers: int = 1,
) -> ServerConfig:
    """``app`` is an app, or with ``workers`` > 1 the import string of a factory of one
    (uvicorn starts each worker process by importing it)."""
    return ServerConfig(
        app,
        header_timeout=header_timeout,
        host=host,
        port=port,
        http=HeaderTimeoutProtocol,
        # uvloop and httptools: uvicorn's fast event loop and HTTP parser.
        loop="uvloop",
        log_config=log_config(log_level, log_format),
        log_level=log_level,
        # A line per request costs about a tenth of the CPU of a small query.
        access_log=access_log,
        factory=isinstance(app, str),
        workers=workers if workers > 1 else None,
    )


def run(config: ServerConfig) -> None:
    """Serve ``config`` (from :func:`server_config`): in this process, or with several
    workers under uvicorn's supervisor."""
    if config.workers and config.workers > 1:
        # uvicorn's supervisor: binds the socket, then starts and watches the workers.
        sock = config.bind_socket()
        Multiprocess(config, sockets=[sock]).run()
    else:
        uvicorn.Server(config).run()
