"""`task-gateway`: serve, demo, sandbox, export-schema and hash-key."""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import sys
from collections.abc import Sequence
from importlib.metadata import version
from typing import TYPE_CHECKING, NoReturn

from gateway.config import Settings
from gateway.core.configuration import ConfigurationError
from gateway.http import server
from gateway.registry import PLUGINS

if TYPE_CHECKING:
    from starlette.types import ASGIApp

    from gateway.core.settings import GatewaySettings


# What each `serve --workers N` process imports and calls to build its app.
WORKER_APP_FACTORY = "gateway.http.app:create_app"
DEMO_CORS_ORIGINS = "http://localhost:*,http://127.0.0.1:*"


def _refuse(problems: Sequence[str]) -> NoReturn:
    """Stop with status 2 and a line per problem, each naming its variable; no traceback
    (its frames would say nothing an operator can act on)."""
    for problem in problems:
        print(f"task-gateway: configuration error: {problem}", file=sys.stderr)
    raise SystemExit(2)


def _start_logging(settings: Settings) -> None:
    """The server's log format from now on, and the start-up line of every vendor."""
    from gateway.http.startup import log_vendor_states

    server.configure_logging(settings.gateway.log_level, settings.gateway.log_format)
    log_vendor_states(settings)


def _serve(
    app: ASGIApp | str,
    gateway: GatewaySettings,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int = 1,
) -> None:
    """Serve ``app`` with the gateway's server settings (at ``host``:``port`` if given)."""
    server.run(
        server.server_config(
            app,
            host=gateway.host if host is None else host,
            port=gateway.port if port is None else port,
            header_timeout=gateway.header_timeout,
            access_log=gateway.access_log,
            log_level=gateway.log_level,
            log_format=gateway.log_format,
            workers=workers,
        )
    )


def _check_client_auth(settings: Settings) -> None:
    """Refuse to serve with malformed credentials settings, or with authentication on
    and no way for any client to authenticate."""
    from gateway.auth.protection import ClientProtection

    protection = ClientProtection.from_settings(settings)
    if protection.authenticator is not None and not protection.authenticator.configured:
        print(
            "task-gateway: client authentication is on but no client can authenticate: set "
            "GATEWAY_API_KEYS, GATEWAY_JWT_SECRET or GATEWAY_JWKS_URL (or GATEWAY_AUTH=false).",
            file=sys.stderr,
        )
        raise SystemExit(2)


def serve(args: argparse.Namespace) -> None:
    from gateway.http.app import create_app
    from gateway.http.startup import partly_configured

    settings = Settings()
    _start_logging(settings)
    # A production gateway fails fast on a vendor set up halfway (see partly_configured).
    partial = partly_configured(settings)
    if partial:
        _refuse(partial)
    _check_client_auth(settings)
    gateway = settings.gateway
    workers = args.workers if args.workers is not None else gateway.workers
    if workers < 1:
        print("task-gateway: --workers must be at least 1", file=sys.stderr)
        raise SystemExit(2)
    # Built here once even with workers, so configuration errors stop the start at once;
    # each worker process then builds its own from the same environment.
    app = create_app(settings)
    _serve(WORKER_APP_FACTORY if workers > 1 else app, gateway, workers=workers)


def _send_sandbox_webhooks_here(base_url: str) -> None:
    """The sandboxes of vendors with webhooks deliver them to this gateway's own endpoint
    (``<VENDOR>_SANDBOX_WEBHOOK_URL``, unless it is set already)."""
    from gateway.http.sandboxes import sandbox_webhook_targets

    for name, url in sandbox_webhook_targets(base_url).items():
        os.environ.setdefault(name, url)


def demo(_: argparse.Namespace) -> None:
    from gateway.http.app import create_app
    from gateway.http.sandboxes import sandbox_env, sandbox_mounts

    # The demo is for trying the graph on one's own machine: no client authentication
    # unless it is asked for explicitly.
    os.environ.setdefault("GATEWAY_AUTH", "false")
    # ... and a dev server on the same machine (Vite, Next, ...) on whatever port it takes.
    os.environ.setdefault("GATEWAY_CORS_ORIGINS", DEMO_CORS_ORIGINS)
    base = Settings().gateway
    # The gateway reaches its sandboxes over real loopback HTTP on its own port.
    os.environ.update(sandbox_env(f"http://{base.host}:{base.port}"))
    _send_sandbox_webhooks_here(f"http://{base.host}:{base.port}")
    settings = Settings()
    _start_logging(settings)
    _check_client_auth(settings)
    app = create_app(settings, extra_routes=sandbox_mounts())
    url = f"http://{base.host}:{base.port}/graphql"
    print(f"task-gateway demo: open {url} (GraphiQL); sandboxes are served on the same port.")
    _serve(app, base)


def sandbox(args: argparse.Namespace) -> None:
    from gateway.http.sandboxes import create_sandbox_app, sandbox_env

    base_url = f"http://{args.host}:{args.port}"
    if args.print_env:
        for name, value in sandbox_env(args.public_url or base_url).items():
            print(f"export {name}={shlex.quote(value)}")
        return
    for name, value in sandbox_env(base_url).items():
        if name.endswith("_URL"):
            print(f"sandbox: {value}")
    gateway = Settings().gateway
    _serve(create_sandbox_app(), gateway, host=args.host, port=args.port)


def export_schema(args: argparse.Namespace) -> None:
    from gateway.api.schema import build_schema

    sys.stdout.write(build_schema(federation=args.federation).as_str() + "\n")


def hash_key(args: argparse.Namespace) -> None:
    """Print the SHA-256 of an API key (read from standard input, or made up with
    --generate), or a whole GATEWAY_API_KEYS entry when --name is given."""
    from gateway.auth.api_keys import generate_key
    from gateway.auth.api_keys import hash_key as digest_of

    if args.generate:
        key = generate_key()
        print(f"key (give it to the client; it is not stored anywhere): {key}", file=sys.stderr)
    elif sys.stdin.isatty():
        key = getpass.getpass("API key: ")
    else:
        key = sys.stdin.readline().rstrip("\r\n")
    if not key:
        print("task-gateway: no key given", file=sys.stderr)
        raise SystemExit(2)
    digest = digest_of(key)
    print(f"{args.name}:{digest}:{args.scopes}" if args.name else digest)


def package_version() -> str:
    """The installed package's version (from its metadata, so it cannot drift)."""
    return version("task-gateway")


def build_parser() -> argparse.ArgumentParser:
    # The vendors come from the registry, like everything else that names them.
    labels = [plugin.vendor.label for plugin in PLUGINS]
    prefixes = [str(plugin.settings.model_config.get("env_prefix", "")) for plugin in PLUGINS]
    parser = argparse.ArgumentParser(
        prog="task-gateway",
        description=f"One GraphQL API in front of {', '.join(labels)}, with a sandbox "
        "emulator of each vendor.",
        epilog="Settings come from environment variables "
        f"({', '.join(f'{prefix}*' for prefix in ['GATEWAY_', *prefixes])}): "
        "see the table in docs/configuration.md.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(
        dest="command", required=True, metavar="COMMAND", help="one of these commands:"
    )
    serve_parser = commands.add_parser(
        "serve",
        help="serve the gateway against the vendors configured in the environment",
        description="Serve /graphql, /healthz and /readyz on GATEWAY_HOST:GATEWAY_PORT "
        "against the vendors whose credentials are set; warns at start when none is.",
    )
    serve_parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes (default: GATEWAY_WORKERS, else 1); with more than one, "
        "set GATEWAY_REDIS_URL so they share tokens and idempotency replays",
    )
    commands.add_parser(
        "demo",
        help="serve the gateway with every vendor sandbox in one process",
        description="Serve the gateway and every vendor sandbox on GATEWAY_HOST:GATEWAY_PORT, "
        "the gateway reaching them over loopback HTTP; no credentials needed.",
    )
    sandbox_parser = commands.add_parser(
        "sandbox",
        help="serve the vendor sandboxes alone",
        description="Serve every vendor's emulator, each under its own path, for "
        "`task-gateway serve` (or another client) to call.",
    )
    sandbox_parser.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: %(default)s)"
    )
    sandbox_parser.add_argument(
        "--port", type=int, default=8001, help="port to listen on (default: %(default)s)"
    )
    sandbox_parser.add_argument(
        "--public-url",
        metavar="URL",
        help="the base URL the gateway reaches the sandboxes at, for --print-env "
        "(default: http://HOST:PORT); e.g. http://sandbox:8001 in a container network",
    )
    sandbox_parser.add_argument(
        "--print-env", action="store_true", help="print the export lines for serve, then exit"
    )
    export_parser = commands.add_parser(
        "export-schema",
        help="print the SDL that schema.graphql (or schema.subgraph.graphql) must equal",
        description="Print the gateway's GraphQL schema as clients see it (SDL), or with "
        "--federation the Federation v2 subgraph that GATEWAY_FEDERATION=true serves.",
    )
    export_parser.add_argument(
        "--federation",
        action="store_true",
        help="the subgraph SDL, for a federation router (schema.subgraph.graphql)",
    )
    hash_parser = commands.add_parser(
        "hash-key",
        help="print an API key's SHA-256 (key read from stdin) for GATEWAY_API_KEYS",
        description="Print the SHA-256 of an API key read from standard input (or made up "
        "with --generate), or a whole `name:sha256:scopes` entry for GATEWAY_API_KEYS.",
    )
    hash_parser.add_argument(
        "--generate", action="store_true", help="make up a new random key (printed to stderr)"
    )
    hash_parser.add_argument("--name", help="print a whole `name:sha256:scopes` entry")
    hash_parser.add_argument(
        "--scopes",
        default="*:read",
        help=f"the entry's scopes, e.g. {PLUGINS[0].vendor.value}:read,"
        f"{PLUGINS[-1].vendor.value}:write (default: %(default)s)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    handlers = {
        "serve": serve,
        "demo": demo,
        "sandbox": sandbox,
        "export-schema": export_schema,
        "hash-key": hash_key,
    }
    try:
        handlers[args.command](args)
    except ConfigurationError as exc:
        _refuse(exc.problems)
