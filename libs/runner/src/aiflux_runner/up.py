"""`make up`: the distributed mode on this machine. Every service runs as its own processes
(API, worker, relay) against the PostgreSQL, RabbitMQ and Redis given in settings (defaults: the
local servers), behind a development gateway on ``PORT`` (8000)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import uvicorn
from aiflux_kit.auth import pair_key
from aiflux_kit.settings import derive_secret

from .gateway import build_gateway
from .services import SERVICES

API_PORT_BASE = 8100
WORKER_PORT_BASE = 8200
RELAY_PORT_BASE = 8300


def child_environment(dev_master: str) -> dict[str, str]:
    """The environment of every child: peer URLs and per-service keys (dev values unless set)."""
    env = dict(os.environ)
    env.setdefault("AIFLUX_ENV", "dev")
    env.setdefault("AIFLUX_PUBLIC_URL", f"http://localhost:{os.environ.get('PORT', '8000')}")
    keys = {s: env.get(f"{s.upper()}_SERVICE_KEY") or derive_secret(dev_master, f"service:{s}")
            for s in SERVICES}
    for n, service in enumerate(SERVICES):
        env.setdefault(f"AIFLUX_{service.upper()}_URL", f"http://127.0.0.1:{API_PORT_BASE + n}")
        env[f"{service.upper()}_SERVICE_KEY"] = keys[service]
        env.setdefault(f"{service.upper()}_TRUSTED_CALLERS", json.dumps(
            {caller: pair_key(key, service) for caller, key in keys.items()}))
    return env


def main() -> None:
    """Migrate, start every process, serve the gateway; stop everything on Ctrl-C."""
    data_dir = Path(os.environ.get("AIFLUX_DATA_DIR", ".data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    from .embedded import master_secret

    env = child_environment(master_secret(data_dir))
    aiflux = [sys.executable, "-m", "aiflux_runner.cli"]
    for service in SERVICES:
        subprocess.run([*aiflux, "migrate", service], env=env, check=True)  # noqa: S603
    children: list[subprocess.Popen[bytes]] = []
    for n, service in enumerate(SERVICES):
        for part, base in (("api", API_PORT_BASE), ("worker", WORKER_PORT_BASE),
                           ("relay", RELAY_PORT_BASE)):
            children.append(subprocess.Popen(  # noqa: S603
                [*aiflux, part, service, "--host", "127.0.0.1", "--port", str(base + n)],
                env=env))
    upstreams = {s: env[f"AIFLUX_{s.upper()}_URL"] for s in SERVICES}
    port = int(os.environ.get("PORT", "8000"))
    print(f"AIFLUX (distributed) gateway at http://localhost:{port}", flush=True)
    try:
        uvicorn.run(build_gateway(upstreams), host="127.0.0.1", port=port, log_config=None)
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 35
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                child.kill()


if __name__ == "__main__":
    main()
