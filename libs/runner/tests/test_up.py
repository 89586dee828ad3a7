"""`make up` supervision, with one service (three processes) to keep the machine calm: a
crashed part comes back, /healthz reports each part, and `make down` stops exactly what
`make up` started: every part, and not an unrelated process whose command line looks alike."""

from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import httpx
import pytest
from aiflux_kit.testing import eventually
from aiflux_runner.supervisor import is_ours

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq, pytest.mark.slow]

PRIVACY = 4  # its index in SERVICES: its ports are base + 4, base + 104, base + 204


def free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_base() -> int:
    while True:
        base = random.randrange(20000, 40000, 10)
        if all(free(base + k * 100 + PRIVACY) for k in range(3)):
            return base


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rabbit_vhost(name: str, create: bool) -> None:
    """A vhost of our own, so no queue of this run is left on the shared broker."""
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    commands = (
        [["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]]
        if create
        else [["delete_vhost", name]]
    )
    for args in commands:
        subprocess.run([ctl, *args], check=create, capture_output=True, timeout=60)


def up_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "aiflux_runner.up", *args]


async def test_crashed_parts_restart_and_make_down_stops_exactly_what_up_started(
    pg_database, amqp_url, tmp_path: Path
):
    vhost = f"t{uuid.uuid4().hex[:10]}"
    rabbit_vhost(vhost, True)
    port = free_port()
    env = {
        **os.environ,
        "PRIVACY_DATABASE_URL": pg_database("privacy"),
        "AIFLUX_AMQP_URL": amqp_url.rstrip("/") + f"/{vhost}",
        "AIFLUX_DATA_DIR": str(tmp_path),
        "PORT": str(port),
        "OPS_PORT": str(free_port()),
    }
    log = (tmp_path / "up.log").open("ab")
    up = subprocess.Popen(
        up_command("--services", "privacy", "--port-base", str(free_port_base())),
        env=env,
        stdout=log,
        stderr=log,
    )
    # What `pkill -f aiflux_runner.up` would also have killed.
    lookalike = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)", "aiflux_runner.up"])
    pid_file = tmp_path / "up.pid"
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:

            async def healthy() -> dict[str, int] | None:
                assert up.poll() is None, (tmp_path / "up.log").read_text()[-3000:]
                try:
                    health = await client.get("/healthz")
                except httpx.TransportError:
                    return None
                if health.status_code != 200:
                    return None
                assert health.json()["services"] == {
                    "privacy": {"api": "ready", "worker": "ready", "relay": "ready"}
                }
                return dict(json.loads(pid_file.read_text())["parts"])

            first = await eventually(healthy, timeout=120)
            assert set(first) == {"privacy.api", "privacy.worker", "privacy.relay"}
            os.kill(first["privacy.worker"], signal.SIGKILL)

            async def restarted() -> dict[str, int] | None:
                parts = await healthy()
                return parts if parts and parts["privacy.worker"] != first["privacy.worker"] else None

            second = await eventually(restarted, timeout=120)

        down = subprocess.run(up_command("down"), env=env, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0, down.stderr
        assert up.wait(timeout=60) == 0
        for pid in {*first.values(), *second.values()}:
            assert not is_ours(pid), f"part {pid} still running"
        assert not pid_file.exists()
        assert lookalike.poll() is None, "make down stopped a process it did not start"
    finally:
        lookalike.kill()
        if up.poll() is None:
            up.send_signal(signal.SIGTERM)
            up.wait(timeout=60)
        log.close()
        rabbit_vhost(vhost, False)


async def test_down_stops_the_parts_of_a_supervisor_that_was_killed(pg_database, amqp_url, tmp_path: Path):
    vhost = f"t{uuid.uuid4().hex[:10]}"
    rabbit_vhost(vhost, True)
    port = free_port()
    env = {
        **os.environ,
        "PRIVACY_DATABASE_URL": pg_database("privacy"),
        "AIFLUX_AMQP_URL": amqp_url.rstrip("/") + f"/{vhost}",
        "AIFLUX_DATA_DIR": str(tmp_path),
        "PORT": str(port),
        "OPS_PORT": str(free_port()),
    }
    up = subprocess.Popen(
        up_command("--services", "privacy", "--port-base", str(free_port_base())),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    pid_file = tmp_path / "up.pid"
    parts: dict[str, int] = {}
    try:

        async def all_started() -> dict[str, int] | None:
            assert up.poll() is None
            with contextlib.suppress(OSError, ValueError):
                recorded = dict(json.loads(pid_file.read_text())["parts"])
                return recorded if len(recorded) == 3 else None
            return None

        parts = await eventually(all_started, timeout=120)
        up.kill()  # SIGKILL: no chance to stop its parts
        up.wait(timeout=30)
        assert all(is_ours(pid) for pid in parts.values())
        down = subprocess.run(up_command("down"), env=env, capture_output=True, text=True, timeout=120)
        assert down.returncode == 0 and "stopped 3 part(s)" in down.stdout, down.stdout

        async def all_gone() -> bool:
            return not any(is_ours(pid) for pid in parts.values())

        await eventually(all_gone, timeout=30)
        assert not pid_file.exists()
    finally:
        for pid in parts.values():
            if is_ours(pid):
                os.killpg(pid, signal.SIGKILL)
        rabbit_vhost(vhost, False)


def test_down_without_a_running_up_says_so_and_succeeds(tmp_path: Path):
    done = subprocess.run(
        up_command("down"),
        env={**os.environ, "AIFLUX_DATA_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "nothing to stop" in done.stdout
