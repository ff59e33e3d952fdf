"""The Dockerfile and compose.yaml, checked without Docker (not on this machine):
hadolint, the non-root user, the healthcheck (run for real against a gateway), the
port, and the compose environment against `--print-env` and the settings' names."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.cli import _check_client_auth, main
from gateway.config import GatewaySettings, Settings
from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from gateway.registry import PLUGINS
from tests.servers import serve_in_thread

ROOT = Path(__file__).resolve().parent.parent
SANDBOX_URL = "http://sandbox:8001"


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) pairs, continuation lines joined, comments dropped."""
    text = (ROOT / "Dockerfile").read_text()
    logical = text.replace("\\\n", " ")
    pairs = []
    for line in logical.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            instruction, _, rest = line.partition(" ")
            pairs.append((instruction.upper(), " ".join(rest.split())))
    return pairs


def instructions(name: str) -> list[str]:
    return [args for instruction, args in dockerfile() if instruction == name]


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return loaded


def settings_env_names() -> set[str]:
    """Every variable the settings read: the gateway's and each vendor section's."""
    prefix = GatewaySettings.model_config.get("env_prefix", "")
    names = {f"{prefix}{field}".upper() for field in GatewaySettings.model_fields}
    for plugin in PLUGINS:
        prefix = plugin.settings.model_config.get("env_prefix", "")
        names |= {f"{prefix}{field}".upper() for field in plugin.settings.model_fields}
    return names


def test_hadolint_finds_nothing() -> None:
    hadolint = Path(sys.executable).with_name("hadolint")
    done = subprocess.run(
        [hadolint, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_image_is_slim_python_311_and_runs_serve_as_a_non_root_user() -> None:
    assert instructions("FROM") == ["python:3.11-slim"]
    users = instructions("USER")
    assert users, "no USER: the gateway would run as root"
    user, _, group = users[-1].partition(":")
    assert user not in {"root", "0"} and group not in {"root", "0"}
    assert f"--uid {user}" in " ".join(instructions("RUN"))
    assert any("pip install" in run and " ." in run for run in instructions("RUN"))
    assert json.loads(instructions("ENTRYPOINT")[-1]) == ["task-gateway"]
    assert json.loads(instructions("CMD")[-1]) == ["serve"]


def _env() -> dict[str, str]:
    env: dict[str, str] = {}
    for args in instructions("ENV"):
        for pair in shlex.split(args):
            name, _, value = pair.partition("=")
            env[name] = value
    return env


def test_it_listens_beyond_loopback_on_the_exposed_port() -> None:
    env = _env()
    assert env["GATEWAY_HOST"] == "0.0.0.0"
    assert instructions("EXPOSE") == [env["GATEWAY_PORT"]]
    assert set(env) & settings_env_names() == {"GATEWAY_HOST", "GATEWAY_PORT"}


def _healthcheck() -> list[str]:
    (healthcheck,) = instructions("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD ")
    assert "--interval=" in options and "--timeout=" in options
    argv: list[str] = json.loads(command)
    return argv


def test_the_healthcheck_asks_healthz_and_fails_when_nothing_answers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    argv = _healthcheck()
    assert argv[0] == "python" and "/healthz" in argv[-1]
    run = [sys.executable, *argv[1:]]
    with serve_in_thread(create_app(Settings())) as url:
        port = url.rsplit(":", 1)[1]
        env = {**os.environ, "GATEWAY_PORT": port}
        healthy = subprocess.run(run, env=env, capture_output=True, timeout=30)
    assert healthy.returncode == 0, healthy.stderr
    # The server is gone now: the same check must fail, or Docker would never notice.
    down = subprocess.run(run, env=env, capture_output=True, timeout=30)
    assert down.returncode != 0


def test_dockerignore_keeps_the_build_context_small_and_secret_free() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().split())
    assert {".git", ".venv", "tests", "benchmarks", ".env"} <= ignored


def test_compose_runs_the_gateway_against_the_sandbox_service() -> None:
    services = compose()["services"]
    assert set(services) == {"gateway", "sandbox"}
    gateway, sandbox = services["gateway"], services["sandbox"]
    assert gateway["command"] == ["serve"]
    assert sandbox["command"] == ["sandbox", "--host", "0.0.0.0", "--port", "8001"]
    assert gateway["depends_on"] == {"sandbox": {"condition": "service_healthy"}}
    for service in services.values():
        assert service["build"] == "."
        assert str(service.get("user", "10001")) not in {"root", "0"}
    env = gateway["environment"]
    assert gateway["ports"] == [f"127.0.0.1:{env['GATEWAY_PORT']}:{_env()['GATEWAY_PORT']}"]


def test_compose_environment_is_what_print_env_prints(
    capsys: pytest.CaptureFixture[str],
) -> None:
    main(["sandbox", "--public-url", SANDBOX_URL, "--print-env"])
    printed = {}
    for line in capsys.readouterr().out.splitlines():
        name, _, value = shlex.split(line.removeprefix("export "))[0].partition("=")
        printed[name] = value
    env = compose()["services"]["gateway"]["environment"]
    assert all(isinstance(value, str) for value in env.values())  # no YAML numbers
    vendor_env = {k: v for k, v in env.items() if not k.startswith("GATEWAY_")}
    assert vendor_env == printed
    unknown = set(env) - settings_env_names()
    assert not unknown, f"compose sets variables no setting reads: {unknown}"


async def test_the_sandbox_healthcheck_path_is_served() -> None:
    test = compose()["services"]["sandbox"]["healthcheck"]["test"]
    assert test[:3] == ["CMD", "python", "-c"]
    url = httpx.URL(test[3].split("'")[1])
    assert url.port == 8001
    transport = httpx.ASGITransport(app=create_sandbox_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://sandbox") as client:
        assert (await client.get(url.path)).status_code == 200


@pytest.mark.parametrize("file", ["compose.yaml", "compose.scale.yaml"])
def test_the_compose_gateway_environment_lets_serve_start(
    file: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # `serve` refuses to start with client auth on and no way to authenticate: the
    # compose files must say how clients get in (here: as the demo, none needed).
    loaded: dict[str, Any] = yaml.safe_load((ROOT / file).read_text())
    gateways = [s for s in loaded["services"].values() if s.get("command") == ["serve"]]
    assert gateways
    for service in gateways:
        for name, value in service["environment"].items():
            monkeypatch.setenv(name, value)
        _check_client_auth(Settings())
