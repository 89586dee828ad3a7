"""The `aiflux` commands the Kubernetes Jobs and CronJobs run, against real servers."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid

import psycopg
import pytest
from aiflux_kit.db import psycopg_conninfo

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq]


def aiflux(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "aiflux_runner.cli", *args],
                          env={**os.environ, **env}, capture_output=True, text=True, timeout=120)


def test_migrate_sweep_and_the_alerting_checks(pg_database, amqp_url):
    url = pg_database("privacy")
    env = {"PRIVACY_DATABASE_URL": url, "AIFLUX_AMQP_URL": amqp_url, "AIFLUX_ENV": "dev",
           "AIFLUX_BUS_NAMESPACE": f"t{uuid.uuid4().hex[:8]}"}
    migrated = aiflux("migrate", "privacy", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "newest revision" in migrated.stdout

    swept = aiflux("sweep", "privacy", "--rule", "request-deadlines", env=env)
    assert swept.returncode == 0, swept.stderr
    assert aiflux("sweep", "privacy", "--rule", "no-such-rule", env=env).returncode == 2

    assert aiflux("check-outbox", "privacy", "--max-age", "60", env=env).returncode == 0
    with psycopg.connect(psycopg_conninfo(url)) as conn:
        conn.execute("INSERT INTO outbox (event_id, routing_key, body, created_at)"
                     " VALUES (gen_random_uuid(), 'privacy.x.v1', '{}', now() - interval '1 hour')")
    stale = aiflux("check-outbox", "privacy", "--max-age", "60", env=env)
    assert stale.returncode == 1 and "1 unsent" in stale.stdout

    try:
        assert aiflux("check-parking", "privacy", env=env).returncode == 0
    finally:
        asyncio.run(delete_parking_queues(amqp_url, env["AIFLUX_BUS_NAMESPACE"]))


async def delete_parking_queues(amqp_url: str, namespace: str) -> None:
    """check-parking declared the parking queues of the test's namespace: remove them."""
    import tempfile
    from pathlib import Path

    import aio_pika
    from aiflux_kit.bus.local import LocalBroker
    from aiflux_kit.ratelimit import RateLimiter
    from aiflux_kit.service import Platform
    from aiflux_runner.services import builder, settings_class

    platform = Platform(mode="distributed", broker=LocalBroker("postgresql+psycopg:///unused"),
                        limiter=RateLimiter.from_url(None), data_dir=Path(tempfile.gettempdir()),
                        bus_namespace=namespace)
    unit = builder("privacy")(platform, settings_class("privacy")(env="test"))
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for subscription in unit.subscriptions:
            await channel.queue_delete(platform.queue_spec("privacy", subscription).parking)
