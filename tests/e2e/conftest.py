"""Helpers of the cross-service end-to-end tests: the system under test (embedded or
distributed), users with their own cookie jars, operators, and the mails identity writes under
``<data dir>/mail/``."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiflux_identity.commands import set_admin
from aiflux_identity.testing import SignedIn, register_and_login
from aiflux_kit.auth import pair_key
from aiflux_kit.testing import eventually

SERVICES = ("identity", "billing", "generation", "storage", "privacy")


@dataclass
class System:
    """What a scenario needs of a running system, whatever the mode."""

    base_url: str
    data_dir: Path
    db_urls: dict[str, str]
    purge_identity: Callable[[], Awaitable[int]]
    objects: Callable[[], list[tuple[str, bytes]]]


def embedded_system(stack: Any) -> System:
    """The in-process test stack as a :class:`System` (objects on local disk)."""

    async def purge() -> int:
        # As if identity's 30-day grace period were over.
        stack.unit("identity").settings.purge_after_days = -1
        return int((await stack.runtime.run_sweep("identity", "account-purge")).counts["purged"])

    def objects() -> list[tuple[str, bytes]]:
        root = stack.data_dir / "objects"
        return [(str(p.relative_to(root)), p.read_bytes()) for p in root.rglob("*") if p.is_file()]

    return System(
        stack.base_url,
        stack.data_dir,
        {s: stack.unit(s).settings.database_url for s in stack.runtime.units},
        purge,
        objects,
    )


@pytest.fixture
def as_system():
    """``as_system(stack)``: the in-process stack as a :class:`System`."""
    return embedded_system


@dataclass
class Person:
    """A registered, logged-in user with a client of their own (cookie + CSRF header)."""

    signed: SignedIn
    client: httpx.AsyncClient

    @property
    def headers(self) -> dict[str, str]:
        """The CSRF header every cookie-authenticated state change carries."""
        return self.signed.headers


@pytest.fixture
def wait():
    """``await wait(check)`` polls an async check until it is truthy."""
    return functools.partial(eventually, timeout=60.0, interval=0.2)


@pytest.fixture
def people():
    """``async with people(system) as new_person:`` makes users, closing their clients after."""

    @contextlib.asynccontextmanager
    async def factory(system: System) -> AsyncIterator[Callable[..., Awaitable[Person]]]:
        clients: list[httpx.AsyncClient] = []

        async def new_person(*, admin: bool = False) -> Person:
            client = httpx.AsyncClient(base_url=system.base_url, timeout=30)
            clients.append(client)
            signed = await register_and_login(client, system.data_dir)
            if admin:
                url = system.db_urls["identity"]
                assert await asyncio.to_thread(set_admin, url, signed.username, True)
            return Person(signed, client)

        try:
            yield new_person
        finally:
            for client in clients:
                await client.aclose()

    return factory


# --- distributed mode: every service as its own processes on RabbitMQ, PostgreSQL, S3 ---------


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports (all held open while choosing, so none repeats)."""
    import socket

    sockets = [socket.socket() for _ in range(count)]
    try:
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def _rabbit_vhost(name: str, create: bool) -> None:
    """A vhost of our own, so this run shares no queue with anything else on the broker."""
    import shutil
    import subprocess

    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    commands = (
        [["add_vhost", name], ["set_permissions", "-p", name, "guest", ".*", ".*", ".*"]]
        if create
        else [["delete_vhost", name]]
    )
    for args in commands:
        subprocess.run([ctl, *args], check=create, capture_output=True, timeout=60)


def _s3_bucket(endpoint: str, bucket: str) -> Any:
    import boto3

    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=bucket)
    return client


def _distributed_env(
    tmp: Path, db_urls: dict[str, str], amqp: str, ports: dict[str, int], public_url: str, s3: str
) -> dict[str, str]:
    import json
    import os
    import secrets

    keys = {s: secrets.token_hex(16) for s in SERVICES}
    env = {
        **os.environ,
        "AIFLUX_ENV": "dev",
        "AIFLUX_AMQP_URL": amqp,
        "AIFLUX_DATA_DIR": str(tmp),
        "AIFLUX_PUBLIC_URL": public_url,
        "AIFLUX_OUTBOX_POLL_INTERVAL_S": "0.2",
        "AIFLUX_RETRY_DELAYS_MS": "[200, 500]",
        "BILLING_CHECKOUT_BACKEND": "simulated",
        "IDENTITY_BCRYPT_ROUNDS": "4",  # cheap hashing, as in the in-process stacks
        "GENERATION_OFFLINE": "true",
        "GENERATION_LOCAL_DELAY_S": "0.2",
        "PRIVACY_EXPORT_POLL_INTERVAL_S": "0.3",
        "STORAGE_BACKEND": "s3",
        "STORAGE_S3_ENDPOINT_URL": s3,
        "STORAGE_S3_BUCKET": "aiflux",
        "STORAGE_S3_ACCESS_KEY_ID": "testing",
        "STORAGE_S3_SECRET_ACCESS_KEY": "testing",
    }
    for service in SERVICES:
        prefix = service.upper()
        env[f"{prefix}_DATABASE_URL"] = db_urls[service]
        env[f"AIFLUX_{prefix}_URL"] = f"http://127.0.0.1:{ports[service]}"
        env[f"{prefix}_SERVICE_KEY"] = keys[service]
        env[f"{prefix}_TRUSTED_CALLERS"] = json.dumps(
            {caller: pair_key(key, service) for caller, key in keys.items()}
        )
    return env


async def _wait_ready(urls: list[str], processes: list[Any], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(timeout=2) as client:
        for url in urls:
            while True:
                assert all(p.poll() is None for p in processes), "a service process exited"
                try:
                    if (await client.get(f"{url}/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"{url} did not become ready")
                await asyncio.sleep(0.5)


@pytest.fixture
async def distributed_system(pg_database, amqp_url, tmp_path):  # type: ignore[no-untyped-def]
    """The five services as 15 processes (API, worker, relay each) on a RabbitMQ vhost of
    their own, fresh databases and moto's S3 server, behind the development gateway."""
    import signal
    import subprocess
    import sys
    import uuid

    import uvicorn
    from aiflux_kit.db import run_migrations
    from aiflux_runner.gateway import build_gateway, ops_routes
    from aiflux_runner.public_routes import PUBLIC_ROUTES
    from aiflux_runner.services import builder
    from moto.server import ThreadedMotoServer

    vhost = f"t{uuid.uuid4().hex[:10]}"
    await asyncio.to_thread(_rabbit_vhost, vhost, True)
    ports = iter(_free_ports(3 * len(SERVICES) + 2))
    moto_port = next(ports)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
    moto.start()
    s3_endpoint = f"http://127.0.0.1:{moto_port}"
    s3 = _s3_bucket(s3_endpoint, "aiflux")
    db_urls = {s: pg_database(s) for s in SERVICES}
    for service in SERVICES:
        migrations = __import__(builder(service).__module__, fromlist=["MIGRATIONS"]).MIGRATIONS
        await asyncio.to_thread(run_migrations, migrations, db_urls[service])
    api_ports = {s: next(ports) for s in SERVICES}
    gateway_port = next(ports)
    public_url = f"http://127.0.0.1:{gateway_port}"
    env = _distributed_env(
        tmp_path, db_urls, amqp_url.rstrip("/") + f"/{vhost}", api_ports, public_url, s3_endpoint
    )
    log = (tmp_path / "processes.log").open("ab")
    processes: list[subprocess.Popen[bytes]] = []
    health: list[str] = []
    for service in SERVICES:
        for part in ("api", "worker", "relay"):
            port = api_ports[service] if part == "api" else next(ports)
            processes.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "aiflux_runner.cli",
                        part,
                        service,
                        "--host",
                        "127.0.0.1",
                        "--port",
                        str(port),
                    ],
                    env=env,
                    stdout=log,
                    stderr=log,
                )
            )
            health.append(f"http://127.0.0.1:{port}")
    gateway = uvicorn.Server(
        uvicorn.Config(
            # The operator gateway of `make up`: the public routes plus the ops API.
            build_gateway(
                {s: f"http://127.0.0.1:{p}" for s, p in api_ports.items()},
                routes=PUBLIC_ROUTES + ops_routes(SERVICES),
            ),
            host="127.0.0.1",
            port=gateway_port,
            log_config=None,
        )
    )
    gateway_task = asyncio.create_task(gateway.serve())

    async def purge() -> int:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "aiflux_runner.cli", "sweep", "identity", "--rule", "account-purge"],
            env={**env, "IDENTITY_PURGE_AFTER_DAYS": "-1"},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        found = re.search(r"'purged': (\d+)", done.stdout)
        return int(found.group(1)) if found else 0

    def objects() -> list[tuple[str, bytes]]:
        listed = s3.list_objects_v2(Bucket="aiflux").get("Contents", [])
        return [(o["Key"], s3.get_object(Bucket="aiflux", Key=o["Key"])["Body"].read()) for o in listed]

    try:
        await _wait_ready(health, processes)
        yield System(public_url, tmp_path, db_urls, purge, objects)
    finally:
        gateway.should_exit = True
        for process in processes:
            process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                await asyncio.to_thread(process.wait, 60)
            except subprocess.TimeoutExpired:
                process.kill()
        await gateway_task
        log.close()
        moto.stop()
        await asyncio.to_thread(_rabbit_vhost, vhost, False)
