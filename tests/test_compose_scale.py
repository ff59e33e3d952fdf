"""compose.scale.yaml and its load balancer (deploy/nginx.conf), checked without
Docker: the services and their environment against the settings, and the nginx
config run for real by Debian's nginx in front of two gateways on loopback."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http.app import create_app
from gateway.http.sandboxes import create_sandbox_app
from tests.conftest import gateway_settings
from tests.servers import serve_in_thread
from tests.test_container import compose, settings_env_names

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONF = ROOT / "deploy" / "nginx.conf"
GATEWAYS = ("gateway-1", "gateway-2")
# Read by uvicorn itself (the addresses whose X-Forwarded-For it trusts), not a setting.
UVICORN_ENV = {"FORWARDED_ALLOW_IPS"}


def scale() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "compose.scale.yaml").read_text())
    return loaded


def test_two_gateways_share_one_redis_behind_the_load_balancer() -> None:
    services = scale()["services"]
    assert set(services) == {"sandbox", "redis", "lb", *GATEWAYS}
    redis_port = services["redis"]["expose"][0]
    for name in GATEWAYS:
        gateway = services[name]
        assert gateway["command"] == ["serve"]
        assert "ports" not in gateway  # reachable through the load balancer only
        assert set(gateway["depends_on"]) == {"sandbox", "redis"}
        env = gateway["environment"]
        assert env["GATEWAY_REDIS_URL"] == f"redis://redis:{redis_port}/0"
        assert gateway["expose"] == [env["GATEWAY_PORT"]]
    lb = services["lb"]
    assert lb["volumes"] == ["./deploy/nginx.conf:/etc/nginx/nginx.conf:ro"]
    assert set(lb["depends_on"]) == set(GATEWAYS)
    [published] = lb["ports"]
    assert published.startswith("127.0.0.1:")
    listen = re.search(r"listen (\d+);", NGINX_CONF.read_text())
    assert listen is not None and published.endswith(f":{listen.group(1)}")


def test_the_replicas_environment_is_the_single_gateways_plus_redis() -> None:
    single = compose()["services"]["gateway"]["environment"]
    for name in GATEWAYS:
        env = scale()["services"][name]["environment"]
        assert all(isinstance(value, str) for value in env.values())  # no YAML numbers
        unknown = set(env) - settings_env_names() - UVICORN_ENV
        assert not unknown, f"compose sets variables no setting reads: {unknown}"
        assert set(env) - set(single) == {"GATEWAY_REDIS_URL", *UVICORN_ENV}
        assert {k: v for k, v in env.items() if k in single} == single


def test_the_nginx_upstreams_are_the_gateway_services() -> None:
    services = scale()["services"]
    servers = re.findall(r"^\s*server ([\w.-]+):(\d+)", NGINX_CONF.read_text(), re.MULTILINE)
    expected = [(name, services[name]["environment"]["GATEWAY_PORT"]) for name in GATEWAYS]
    assert servers == expected


class Counted:
    """Counts the requests an app answers, to see which replica nginx chose."""

    def __init__(self, app: ASGIApp, name: str, seen: Counter[str]) -> None:
        self.app, self.name, self.seen = app, name, seen

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.seen[self.name] += 1
        await self.app(scope, receive, send)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def nginx(config: str, workdir: Path, port: int) -> Iterator[str]:
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        pytest.fail(
            "nginx is not installed: `apt-get install -y nginx-light` "
            "(`make test` installs it on a fresh machine)"
        )
    conf = workdir / "nginx.conf"
    conf.write_text(config)
    base = [binary, "-p", str(workdir), "-c", str(conf), "-e", "stderr"]
    settings = f"daemon off; pid {workdir / 'nginx.pid'};"
    checked = subprocess.run([*base, "-t", "-g", settings], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    process = subprocess.Popen([*base, "-g", settings], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read() if process.stderr else ""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_nginx_spreads_requests_over_both_replicas(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = gateway_settings(monkeypatch)
    vendors = [plugin.vendor for plugin in settings.plugins]
    sandbox = httpx.ASGITransport(app=create_sandbox_app(settings.plugins))
    seen: Counter[str] = Counter()
    config = NGINX_CONF.read_text()
    with ExitStack() as stack:
        for name in GATEWAYS:
            app = create_app(settings, transports=dict.fromkeys(vendors, sandbox))
            url = stack.enter_context(serve_in_thread(Counted(app, name, seen)))
            config = config.replace(f"server {name}:8000", f"server {url.removeprefix('http://')}")
        port = _free_port()
        config = config.replace("listen 8080;", f"listen 127.0.0.1:{port};")
        lb = stack.enter_context(nginx(config, tmp_path, port))
        query = {"query": "{ tasks(first: 1) { nodes { id } } }"}
        with httpx.Client(base_url=lb, timeout=10) as client:
            answers = [client.post("/graphql", json=query) for _ in range(10)]
    assert [answer.status_code for answer in answers] == [200] * 10
    assert all(answer.json()["data"]["tasks"]["nodes"] for answer in answers)
    # Round robin per nginx worker: both replicas answer, none is favoured for good.
    assert set(seen) == set(GATEWAYS) and sum(seen.values()) == 10
