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

# slow: each test starts the `aiflux` command several times as its own process.
pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq, pytest.mark.slow]


def aiflux(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "aiflux_runner.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line(stderr: str) -> bool:
    """An operator's error: one line, no traceback (logs are JSON lines and say nothing)."""
    lines = [line for line in stderr.splitlines() if not line.startswith("{")]
    return len(lines) == 1 and "Traceback" not in stderr


EMBEDDED_INSTALL = """
import sys
from pathlib import Path

import psycopg
from aiflux_kit.db import psycopg_conninfo, run_migrations
from aiflux_runner.embedded import embedded_unit

_, unit = embedded_unit(Path(sys.argv[1]), "privacy")
run_migrations(unit.migrations, unit.settings.database_url)
with psycopg.connect(psycopg_conninfo(unit.settings.database_url)) as conn:
    conn.execute("INSERT INTO outbox (event_id, routing_key, body, created_at)"
                 " VALUES (gen_random_uuid(), 'privacy.x.v1', '{}', now() - interval '1 hour')")
"""
"""An embedded install with the privacy database and one stale outbox row; its PostgreSQL stops
when this script exits (the command under test has to start it)."""


def test_operator_commands_act_on_the_embedded_install_named_by_data_dir(tmp_path):
    data_dir = tmp_path / "install"
    made = subprocess.run(
        [sys.executable, "-c", EMBEDDED_INSTALL, str(data_dir)], capture_output=True, text=True, timeout=300
    )
    assert made.returncode == 0, made.stderr[-3000:]
    # The distributed settings point nowhere: only --data-dir can reach the install.
    nowhere = {
        "PRIVACY_DATABASE_URL": "postgresql+psycopg://postgres@127.0.0.1:9/aiflux_privacy",
        "AIFLUX_AMQP_URL": "amqp://guest:guest@127.0.0.1:9/",
        "PRIVACY_SERVICE_KEY": uuid.uuid4().hex,
    }

    stale = aiflux("check-outbox", "privacy", "--data-dir", str(data_dir), "--max-age", "60", env=nowhere)
    assert stale.returncode == 1 and "privacy: 1 unsent" in stale.stdout, stale.stderr[-3000:]
    swept = aiflux(
        "sweep", "privacy", "--data-dir", str(data_dir), "--rule", "request-deadlines", env=nowhere
    )
    assert swept.returncode == 0 and "privacy.request-deadlines" in swept.stdout, swept.stderr
    parked = aiflux("check-parking", "privacy", "--data-dir", str(data_dir), env=nowhere)
    assert parked.returncode == 0 and "privacy: 0 parked" in parked.stdout, parked.stderr

    unreachable = aiflux("check-outbox", "privacy", env=nowhere)
    assert unreachable.returncode == 1 and "unsent" not in unreachable.stdout
    assert one_line(unreachable.stderr) and "privacy database" in unreachable.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("sweep", "privacy"),
        ("check-outbox", "identity"),
        ("replay", "billing", "user-deleted"),
        ("check-parking", "storage"),
        ("admin-grant", "someone"),
    ],
)
def test_a_data_dir_without_an_install_is_one_line_and_creates_nothing(tmp_path, command):
    empty = tmp_path / "typo"
    empty.mkdir()
    done = aiflux(*command, "--data-dir", str(empty), env={})
    assert done.returncode == 1 and done.stdout == ""
    assert one_line(done.stderr) and "no embedded install" in done.stderr
    assert list(empty.iterdir()) == []


def test_help_loads_no_server_database_or_service_code():
    probe = (
        "import sys\nfrom aiflux_runner.cli import main\ntry:\n    main(['--help'])\n"
        "except SystemExit:\n    pass\nheavy = ('uvicorn', 'fastapi', 'sqlalchemy', 'psycopg',"
        " 'aio_pika', 'aiflux_kit.runtime', 'aiflux_identity.settings')\n"
        "print('LOADED', [m for m in heavy if m in sys.modules])"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert "admin-grant" in done.stdout and "--data-dir" not in done.stderr
    assert "LOADED []" in done.stdout, done.stdout[-500:]


def test_migrate_sweep_and_the_alerting_checks(pg_database, amqp_url):
    url = pg_database("privacy")
    env = {
        "PRIVACY_DATABASE_URL": url,
        "AIFLUX_AMQP_URL": amqp_url,
        "AIFLUX_ENV": "dev",
        "AIFLUX_BUS_NAMESPACE": f"t{uuid.uuid4().hex[:8]}",
        # dev derives privacy's secrets from the service key, and refuses a placeholder one
        "PRIVACY_SERVICE_KEY": uuid.uuid4().hex,
    }
    migrated = aiflux("migrate", "privacy", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "newest revision" in migrated.stdout

    swept = aiflux("sweep", "privacy", "--rule", "request-deadlines", env=env)
    assert swept.returncode == 0, swept.stderr
    unknown = aiflux("sweep", "privacy", "--rule", "no-such-rule", env=env)
    assert unknown.returncode == 2
    assert one_line(unknown.stderr) and "request-deadlines" in unknown.stderr

    assert aiflux("check-outbox", "privacy", "--max-age", "60", env=env).returncode == 0
    with psycopg.connect(psycopg_conninfo(url)) as conn:
        conn.execute(
            "INSERT INTO outbox (event_id, routing_key, body, created_at)"
            " VALUES (gen_random_uuid(), 'privacy.x.v1', '{}', now() - interval '1 hour')"
        )
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

    platform = Platform(
        mode="distributed",
        broker=LocalBroker("postgresql+psycopg:///unused"),
        limiter=RateLimiter.from_url(None),
        data_dir=Path(tempfile.gettempdir()),
        bus_namespace=namespace,
    )
    unit = builder("privacy")(platform, settings_class("privacy")(env="test"))
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        for subscription in unit.subscriptions:
            await channel.queue_delete(platform.queue_spec("privacy", subscription).parking)
