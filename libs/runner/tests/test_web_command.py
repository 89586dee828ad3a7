"""`aiflux web`: the web server as its own process (Kubernetes' `web` Deployment, `make up`'s
`web.server` part), configured by the WEB_ environment."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import httpx
import pytest
from aiflux_kit.testing import eventually
from aiflux_runner.up import WEB_PORT_OFFSET, child_environment, health_table, plan


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_aiflux_web_serves_the_pages_with_its_web_settings() -> None:
    port = free_port()
    env = {
        **os.environ,
        "WEB_PUBLIC_URL": "https://aiflux.example",
        "WEB_PRIVACY_URL": f"http://127.0.0.1:{free_port()}",  # nothing listens there
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "aiflux_runner.cli", "web", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def started() -> httpx.Response | None:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                try:
                    return await client.get("/healthz")
                except httpx.TransportError:
                    return None

            health = await eventually(started, timeout=60)
            assert health.status_code == 200
            home = await client.get("/")
            assert home.status_code == 200 and "/assets/app/main.js" in home.text
            assert home.headers["strict-transport-security"].startswith("max-age=")  # WEB_PUBLIC_URL
            assert "server" not in home.headers
            console = await client.get("/ops/")
            assert console.status_code == 200 and "/assets/ops/main.js" in console.text
            policy = await client.get("/privacy/policy")  # WEB_PRIVACY_URL: privacy is down
            assert policy.status_code == 503 and "cannot be reached" in policy.text
            for path in ("/internal/identity/sessions/introspect", "/v1/ops/privacy/requests", "/metrics"):
                missing = await client.get(path)
                assert missing.status_code == 404, path
                assert missing.headers["content-type"] == "application/problem+json"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_make_up_runs_the_web_server_as_one_more_part() -> None:
    parts = {p.name: p for p in plan(["privacy", "web"], 8100)}
    assert set(parts) == {"privacy.api", "privacy.worker", "privacy.relay", "web.server"}
    web = parts["web.server"]
    assert list(web.argv[-5:]) == ["web", "--host", "127.0.0.1", "--port", str(8100 + WEB_PORT_OFFSET)]
    assert health_table(list(parts.values()))["web"] == {"server": web.health_url}
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith(("WEB_", "AIFLUX_"))]:
            patch.delenv(name)
        env = child_environment("dev-master", 8100)
    assert env["WEB_PRIVACY_URL"] == "http://127.0.0.1:8104"
    # The web server calls each service's API directly, and knows the public URL.
    for service in ("identity", "billing", "generation", "storage", "privacy"):
        assert env[f"WEB_{service.upper()}_URL"] == env[f"AIFLUX_{service.upper()}_URL"]
    assert env["WEB_PUBLIC_URL"] == env["AIFLUX_PUBLIC_URL"]
