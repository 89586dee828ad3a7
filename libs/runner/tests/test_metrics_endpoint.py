"""Every process of a distributed service (API, worker, relay) serves ``/metrics`` for the
ServiceMonitors of deploy/k8s, on the port its probes use."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq, pytest.mark.slow]

PARTS = ("api", "worker", "relay")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def vhost_url(amqp_url: str) -> Iterator[str]:
    name = f"metrics{uuid.uuid4().hex[:10]}"
    subprocess.run(["rabbitmqctl", "add_vhost", name], check=True, capture_output=True, timeout=60)
    subprocess.run(
        ["rabbitmqctl", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    try:
        yield amqp_url.rstrip("/") + f"/{name}"
    finally:
        subprocess.run(["rabbitmqctl", "delete_vhost", name], capture_output=True, timeout=60)


def _scrape_when_up(url: str, process: subprocess.Popen[bytes], timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while True:
        assert process.poll() is None, f"{url}: the process exited"
        try:
            response = httpx.get(f"{url}/metrics", timeout=5)
            if response.status_code == 200:
                return response.text
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"{url} never served /metrics"
        time.sleep(0.5)


def test_api_worker_and_relay_each_serve_metrics(pg_database, vhost_url, tmp_path: Path):
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("OTEL_")},
        "BILLING_DATABASE_URL": pg_database("billing"),
        "AIFLUX_AMQP_URL": vhost_url,
        "AIFLUX_ENV": "dev",
        "AIFLUX_DATA_DIR": str(tmp_path),
        "BILLING_CHECKOUT_BACKEND": "simulated",
        # dev refuses placeholder secrets: a real service key derives the webhook secret
        "BILLING_SERVICE_KEY": uuid.uuid4().hex,
    }
    command = [sys.executable, "-m", "aiflux_runner.cli"]
    migrated = subprocess.run(
        [*command, "migrate", "billing"], env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    log = (tmp_path / "parts.log").open("ab")
    ports = {part: _free_port() for part in PARTS}
    processes = {
        part: subprocess.Popen(
            [*command, part, "billing", "--host", "127.0.0.1", "--port", str(ports[part])],
            env=env,
            stdout=log,
            stderr=log,
        )
        for part in PARTS
    }
    try:
        scraped = {
            part: _scrape_when_up(f"http://127.0.0.1:{ports[part]}", processes[part]) for part in PARTS
        }
    finally:
        for process in processes.values():
            process.send_signal(signal.SIGTERM)
        for process in processes.values():
            try:
                process.wait(60)
            except subprocess.TimeoutExpired:
                process.kill()
        log.close()
    for part, text in scraped.items():
        names = {f.name for f in text_string_to_metric_families(text)}
        assert {
            "aiflux_http_requests",
            "aiflux_http_request_duration_seconds",
            "aiflux_outbox_backlog",
            "aiflux_outbox_oldest_age_seconds",
            "aiflux_queue_depth",
            "aiflux_queue_parked",
            "aiflux_billing_holds_outstanding",
        } <= names, (part, sorted(names))
        assert 'aiflux_outbox_backlog{service_name="billing"} 0.0' in text, part
    assert 'aiflux_queue_parked{consumer="privacy-export",service_name="billing"} 0.0' in (scraped["worker"])
