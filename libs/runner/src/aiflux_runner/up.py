"""`make up`: the distributed mode on this machine. Every service runs as its own processes
(API, worker, relay) against the PostgreSQL, RabbitMQ and Redis given in settings (defaults: the
local servers), and the web server (``aiflux web``: the client at /, the ops console at /ops/)
as one more part, behind a development gateway on ``PORT`` (8000) that routes the public API as
the Kubernetes Ingress does (every other path to the web server), and an operator gateway on
``OPS_PORT`` (PORT + 1, this machine only) that also routes the ops API.

    python -m aiflux_runner.up [--services identity,billing,web] [--port-base 8100]
    python -m aiflux_runner.up down        (make down: stop what the pid file names)

Crashed parts are restarted with backoff; any stop signal stops every part; /healthz on the
gateway reports each part and answers 503 while one is not ready.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from aiflux_kit.auth import pair_key
from aiflux_kit.settings import derive_secret

from .gateway import build_gateway, gateway_config, ops_routes
from .public_routes import PUBLIC_ROUTES, WEB, WEB_ROUTES
from .servers import SupervisedServer
from .services import SERVICES
from .supervisor import (
    Part,
    PidFile,
    Supervisor,
    on_stop_signals,
    stop_recorded,
    watch_parent,
)

PART_KINDS = ("api", "worker", "relay")
PORT_STEP = 100  # api at base + n, worker at base + 100 + n, relay at base + 200 + n
WEB_PORT_OFFSET = len(PART_KINDS) * PORT_STEP  # the web server at base + 300
RUNNABLE = (*SERVICES, WEB)


def child_environment(dev_master: str, port_base: int = 8100) -> dict[str, str]:
    """The environment of every child: peer URLs and per-service keys (dev values unless set)."""
    env = dict(os.environ)
    env.setdefault("AIFLUX_ENV", "dev")
    env.setdefault("AIFLUX_PUBLIC_URL", f"http://localhost:{os.environ.get('PORT', '8000')}")
    keys = {
        s: env.get(f"{s.upper()}_SERVICE_KEY") or derive_secret(dev_master, f"service:{s}") for s in SERVICES
    }
    env.setdefault("WEB_PUBLIC_URL", env["AIFLUX_PUBLIC_URL"])
    for n, service in enumerate(SERVICES):
        env.setdefault(f"AIFLUX_{service.upper()}_URL", f"http://127.0.0.1:{port_base + n}")
        # The web server's relay and policy page call each API directly, not via the gateway.
        env.setdefault(f"WEB_{service.upper()}_URL", env[f"AIFLUX_{service.upper()}_URL"])
        env[f"{service.upper()}_SERVICE_KEY"] = keys[service]
        env.setdefault(
            f"{service.upper()}_TRUSTED_CALLERS",
            json.dumps({caller: pair_key(key, service) for caller, key in keys.items()}),
        )
    return env


def plan(services: Sequence[str], port_base: int) -> list[Part]:
    """The processes of ``services``: API, worker and relay each, on fixed local ports; the web
    server (one part, ``web.server``) when ``services`` names ``web``."""
    aiflux = [sys.executable, "-m", "aiflux_runner.cli"]
    parts = []
    for service in services:
        if service == WEB:
            port = port_base + WEB_PORT_OFFSET
            argv = [*aiflux, "web", "--host", "127.0.0.1", "--port", str(port)]
            parts.append(Part("web.server", argv, f"http://127.0.0.1:{port}"))
            continue
        n = SERVICES.index(service)
        for k, kind in enumerate(PART_KINDS):
            port = port_base + k * PORT_STEP + n
            parts.append(
                Part(
                    f"{service}.{kind}",
                    [*aiflux, kind, service, "--host", "127.0.0.1", "--port", str(port)],
                    f"http://127.0.0.1:{port}",
                )
            )
    return parts


def health_table(parts: Sequence[Part]) -> dict[str, dict[str, str]]:
    """service → part → base URL, for the gateway's /healthz."""
    table: dict[str, dict[str, str]] = {}
    for part in parts:
        service, kind = part.name.split(".")
        table.setdefault(service, {})[kind] = part.health_url
    return table


async def _migrate(services: Sequence[str], env: Mapping[str, str], stop: asyncio.Event) -> bool:
    for service in services:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "aiflux_runner.cli",
            "migrate",
            service,
            env=dict(env),
            start_new_session=True,
        )
        waiting = asyncio.ensure_future(process.wait())
        await asyncio.wait([waiting, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        if not waiting.done():
            process.terminate()
            await waiting
            return False
        if process.returncode != 0:
            print(f"aiflux up: migrating {service} failed", file=sys.stderr)
            return False
    return True


async def run(services: Sequence[str], port_base: int, port: int, ops_port: int, data_dir: Path) -> int:
    """Migrate, start and supervise every part, serve the gateways until a stop signal."""
    from .embedded import master_secret

    stop = asyncio.Event()
    on_stop_signals(stop)
    watcher = asyncio.create_task(watch_parent(stop))
    env = child_environment(master_secret(data_dir), port_base)
    if not await _migrate([s for s in services if s != WEB], env, stop):
        watcher.cancel()
        return 1
    parts = plan(services, port_base)
    supervisor = Supervisor(parts, env, PidFile(data_dir / "up.pid"))
    supervisor.start()
    upstreams = {s: env[f"AIFLUX_{s.upper()}_URL"] for s in SERVICES}
    if WEB in services:
        upstreams[WEB] = f"http://127.0.0.1:{port_base + WEB_PORT_OFFSET}"
    health = health_table(parts)
    public = PUBLIC_ROUTES + WEB_ROUTES
    gateways = [
        SupervisedServer(
            gateway_config(
                build_gateway(upstreams, routes=public, health=health), host="127.0.0.1", port=port
            )
        ),
        SupervisedServer(
            gateway_config(
                build_gateway(
                    upstreams, routes=PUBLIC_ROUTES + ops_routes(SERVICES) + WEB_ROUTES, health=health
                ),
                host="127.0.0.1",
                port=ops_port,
            )
        ),
    ]
    serving = [asyncio.ensure_future(g.serve()) for g in gateways]
    print(
        f"AIFLUX (distributed) gateway at http://localhost:{port} "
        f"(web client at /, ops console at /ops/; ops API at http://localhost:{ops_port}; "
        "stop with Ctrl-C or `make down`)",
        flush=True,
    )
    await asyncio.wait([*serving, asyncio.ensure_future(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
    failed = any(task.done() for task in serving)  # a gateway could not serve (port taken)
    for gateway in gateways:
        gateway.should_exit = True
    await supervisor.stop()
    await asyncio.gather(*serving, return_exceptions=True)
    watcher.cancel()
    return 1 if failed else 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="aiflux-up", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("action", nargs="?", choices=("up", "down"), default="up")
    parser.add_argument(
        "--services",
        default=",".join(RUNNABLE),
        help="comma-separated services to run, `web` for the web server (default: all and web)",
    )
    parser.add_argument("--port-base", type=int, default=8100)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """`make up` / `make down`."""
    args = _arguments(argv)
    data_dir = Path(os.environ.get("AIFLUX_DATA_DIR", ".data")).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    pid_file = PidFile(data_dir / "up.pid")
    if args.action == "down":
        print(f"aiflux up: {stop_recorded(pid_file)}")
        return
    running = pid_file.running_supervisor()
    if running is not None:
        raise SystemExit(f"aiflux up: already running (pid {running}); run `make down` first")
    if pid_file.read() is not None:  # a supervisor that was killed: its parts may live on
        print(f"aiflux up: previous run {stop_recorded(pid_file)}", flush=True)
    services = [s for s in args.services.split(",") if s]
    unknown = sorted(set(services) - set(RUNNABLE))
    if unknown:
        raise SystemExit(
            f"aiflux up: unknown service(s) {', '.join(unknown)}; choose from {', '.join(RUNNABLE)}"
        )
    port = int(os.environ.get("PORT", "8000"))
    ops_port = int(os.environ.get("OPS_PORT", port + 1))
    raise SystemExit(asyncio.run(run(services, args.port_base, port, ops_port, data_dir)))


if __name__ == "__main__":
    main()
