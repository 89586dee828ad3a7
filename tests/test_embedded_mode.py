"""`make run`'s process: the embedded mode starts from nothing, reports all five services
ready, shuts down cleanly on SIGTERM, and starts again on the same data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from aiflux_runner.services import SERVICES

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start(data_dir: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "AIFLUX_DATA_DIR": str(data_dir), "PORT": str(port)}
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "aiflux_runner.cli", "embedded"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 180) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "the embedded process exited"
        try:
            body = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).json()
            if all(body["services"].get(s, {}).get("status") == "ready" for s in SERVICES):
                return body
        except (httpx.TransportError, ValueError, KeyError):
            pass
        time.sleep(0.5)
    raise AssertionError("the embedded mode did not become ready")


def stop(process: subprocess.Popen[bytes], log: Path, data_dir: Path) -> None:
    """SIGTERM must lead to a graceful shutdown that also stops the embedded PostgreSQL."""
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert "Application shutdown complete" in log.read_text()
    assert "Traceback" not in log.read_text()
    assert not (data_dir / "postgres" / "postmaster.pid").exists(), "PostgreSQL outlived it"


def test_embedded_mode_starts_stops_and_restarts(tmp_path: Path):
    data_dir = tmp_path / "data"
    port = free_port()
    first, second = tmp_path / "first.log", tmp_path / "second.log"
    process = start(data_dir, port, first)
    try:
        health = wait_ready(port, process)
        assert set(health["services"]) == set(SERVICES)
        docs = httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=10).json()
        assert "/healthz" in docs["paths"]
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=30).text
        for service in SERVICES:
            assert f'aiflux_outbox_backlog{{service_name="{service}"}}' in metrics, service
        failed = [line for line in metrics.splitlines() if line.startswith("aiflux_metrics_reader_failed{")]
        assert failed and all(line.endswith(" 0.0") for line in failed), failed
        assert f"AIFLUX is running at http://localhost:{port}" in first.read_text()
    finally:
        stop(process, first, data_dir)
    assert (data_dir / "postgres" / "PG_VERSION").exists()

    process = start(data_dir, port, second)
    try:
        wait_ready(port, process)
    finally:
        stop(process, second, data_dir)
