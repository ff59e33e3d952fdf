"""`task-gateway`: serve, demo, sandbox and export-schema."""

from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from gateway import server
from gateway.config import Settings
from gateway.observability.tracing import TracingConfigError

if TYPE_CHECKING:
    from starlette.applications import Starlette


def _settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        # Print only the messages: pydantic's default text echoes the input values,
        # which would put secrets on the terminal.
        for error in exc.errors():
            location = ".".join(str(part) for part in error["loc"]) or exc.title
            message = error["msg"].removeprefix("Value error, ")
            print(f"task-gateway: configuration error ({location}): {message}", file=sys.stderr)
        raise SystemExit(2) from None


def _app(factory: Callable[..., Starlette], settings: Settings, **options: Any) -> Starlette:
    try:
        return factory(settings, **options)
    except TracingConfigError as exc:
        print(f"task-gateway: configuration error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def serve(_: argparse.Namespace) -> None:
    from gateway.app import create_app

    settings = _settings()
    app = _app(create_app, settings)
    gateway = settings.gateway
    server.run(
        app,
        host=gateway.host,
        port=gateway.port,
        header_timeout=gateway.header_timeout,
        access_log=gateway.access_log,
        log_level=gateway.log_level,
        log_format=gateway.log_format,
    )


def demo(_: argparse.Namespace) -> None:
    from gateway.app import create_app
    from gateway.sandbox import sandbox_env, sandbox_mounts

    base = _settings().gateway
    # The gateway reaches its sandboxes over real loopback HTTP on its own port.
    os.environ.update(sandbox_env(f"http://{base.host}:{base.port}"))
    settings = _settings()
    app = _app(create_app, settings, extra_routes=sandbox_mounts())
    url = f"http://{base.host}:{base.port}/graphql"
    print(f"task-gateway demo: open {url} (GraphiQL); sandboxes are served on the same port.")
    server.run(
        app,
        host=base.host,
        port=base.port,
        header_timeout=base.header_timeout,
        access_log=base.access_log,
        log_level=base.log_level,
        log_format=base.log_format,
    )


def sandbox(args: argparse.Namespace) -> None:
    from gateway.sandbox import create_sandbox_app, sandbox_env

    base_url = f"http://{args.host}:{args.port}"
    if args.print_env:
        for name, value in sandbox_env(base_url).items():
            print(f"export {name}={shlex.quote(value)}")
        return
    for name, value in sandbox_env(base_url).items():
        if name.endswith("_URL"):
            print(f"sandbox: {value}")
    gateway = _settings().gateway
    server.run(
        create_sandbox_app(),
        host=args.host,
        port=args.port,
        header_timeout=gateway.header_timeout,
        access_log=gateway.access_log,
        log_level=gateway.log_level,
        log_format=gateway.log_format,
    )


def export_schema(_: argparse.Namespace) -> None:
    from gateway.api.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="task-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="serve the gateway against the configured vendors")
    commands.add_parser("demo", help="serve the gateway with every vendor sandbox")
    sandbox_parser = commands.add_parser("sandbox", help="serve the vendor sandboxes alone")
    sandbox_parser.add_argument("--host", default="127.0.0.1")
    sandbox_parser.add_argument("--port", type=int, default=8001)
    sandbox_parser.add_argument(
        "--print-env", action="store_true", help="print the export lines for serve, then exit"
    )
    commands.add_parser("export-schema", help="print the SDL that schema.graphql must equal")
    args = parser.parse_args(argv)
    handlers = {"serve": serve, "demo": demo, "sandbox": sandbox, "export-schema": export_schema}
    handlers[args.command](args)
