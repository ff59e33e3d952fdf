"""`task-gateway`: serve, demo, sandbox, export-schema and hash-key."""

from __future__ import annotations

import argparse
import getpass
import os
import shlex
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from gateway import server
from gateway.config import Settings


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


def _check_client_auth(settings: Settings) -> None:
    """Refuse to serve with malformed credentials settings, or with authentication on
    and no way for any client to authenticate."""
    from gateway.auth.protection import ClientProtection

    try:
        protection = ClientProtection.from_settings(settings)
    except ValueError as exc:
        print(f"task-gateway: configuration error (client auth): {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    if protection.authenticator is not None and not protection.authenticator.configured:
        print(
            "task-gateway: client authentication is on but no client can authenticate: set "
            "GATEWAY_API_KEYS, GATEWAY_JWT_SECRET or GATEWAY_JWKS_URL (or GATEWAY_AUTH=false).",
            file=sys.stderr,
        )
        raise SystemExit(2)


def serve(_: argparse.Namespace) -> None:
    from gateway.app import create_app

    settings = _settings()
    _check_client_auth(settings)
    app = create_app(settings)
    gateway = settings.gateway
    server.run(
        app,
        host=gateway.host,
        port=gateway.port,
        header_timeout=gateway.header_timeout,
        access_log=gateway.access_log,
    )


def demo(_: argparse.Namespace) -> None:
    from gateway.app import create_app
    from gateway.sandbox import sandbox_env, sandbox_mounts

    # The demo is for trying the graph on one's own machine: no client authentication
    # unless it is asked for explicitly.
    os.environ.setdefault("GATEWAY_AUTH", "false")
    base = _settings().gateway
    # The gateway reaches its sandboxes over real loopback HTTP on its own port.
    os.environ.update(sandbox_env(f"http://{base.host}:{base.port}"))
    settings = _settings()
    _check_client_auth(settings)
    app = create_app(settings, extra_routes=sandbox_mounts())
    url = f"http://{base.host}:{base.port}/graphql"
    print(f"task-gateway demo: open {url} (GraphiQL); sandboxes are served on the same port.")
    server.run(
        app,
        host=base.host,
        port=base.port,
        header_timeout=base.header_timeout,
        access_log=base.access_log,
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
    )


def export_schema(_: argparse.Namespace) -> None:
    from gateway.api.schema import schema

    sys.stdout.write(schema.as_str() + "\n")


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
    hash_parser = commands.add_parser(
        "hash-key", help="print an API key's SHA-256 (key read from stdin) for GATEWAY_API_KEYS"
    )
    hash_parser.add_argument(
        "--generate", action="store_true", help="make up a new random key (printed to stderr)"
    )
    hash_parser.add_argument("--name", help="print a whole `name:sha256:scopes` entry")
    hash_parser.add_argument(
        "--scopes", default="*:read", help="the entry's scopes, e.g. invoiced:read,zoho:write"
    )
    args = parser.parse_args(argv)
    handlers = {
        "serve": serve,
        "demo": demo,
        "sandbox": sandbox,
        "export-schema": export_schema,
        "hash-key": hash_key,
    }
    handlers[args.command](args)
