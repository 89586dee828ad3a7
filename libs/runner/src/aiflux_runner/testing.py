"""A whole AIFLUX stack for tests: chosen services in one process, served over real HTTP on a
free port (services call each other over HTTP exactly as when distributed), on fresh databases
of the test PostgreSQL and the in-process bus."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiflux_kit.app import create_app
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.db import run_migrations
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform, ServiceUnit
from aiflux_kit.testing import loopback_socket
from aiflux_web.app import create_web_app
from aiflux_web.settings import WebSettings
from fastapi import FastAPI

from .embedded import service_overrides
from .services import SERVICES, builder, settings_class

# Settings every test stack starts with (a test's own overrides win). bcrypt at its production
# cost (12, asserted by identity's tests) spends ~0.3 s of CPU on every registration and login,
# which no test of a whole stack is about.
TEST_SETTINGS: dict[str, dict[str, Any]] = {"identity": {"bcrypt_rounds": 4}}


@dataclass
class Stack:
    """A running stack: its base URL, a client for it, and its parts."""

    base_url: str
    client: httpx.AsyncClient
    app: FastAPI
    runtime: Runtime
    data_dir: Path

    def unit(self, service: str) -> ServiceUnit:
        """One service of the stack."""
        return self.runtime.units[service]

    def container(self, service: str) -> Any:
        """The container (handlers' dependencies) of one service."""
        return self.runtime.units[service].container


@contextlib.asynccontextmanager
async def run_stack(
    pg_database: Callable[[str], str],
    data_dir: Path,
    services: Iterable[str] = SERVICES,
    overrides: dict[str, dict[str, Any]] | None = None,
    platform_overrides: dict[str, Any] | None = None,
) -> AsyncIterator[Stack]:
    """Start ``services`` in this event loop and yield the running :class:`Stack`."""
    sock = loopback_socket()
    port = sock.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    platform_options: dict[str, Any] = {
        "mode": "embedded",
        "limiter": RateLimiter.from_url(None),
        "data_dir": data_dir,
        "retry_delays_ms": (200, 500),
        **(platform_overrides or {}),
    }
    if "broker" not in platform_options:
        platform_options["broker"] = LocalBroker(pg_database("bus"), poll_interval=0.2)
    platform = Platform(**platform_options)
    units = []
    for service in services:
        url = pg_database(service)
        values = service_overrides(service, url, base_url, "test-master-secret")
        values.update(env="test", outbox_poll_interval_s=0.2)
        values.update(TEST_SETTINGS.get(service, {}))
        values.update((overrides or {}).get(service, {}))
        unit = builder(service)(platform, settings_class(service)(**values))
        await asyncio.to_thread(run_migrations, unit.migrations, url)
        units.append(unit)
        if unit.session_verifier is not None:
            platform.session_verifier = unit.session_verifier
    runtime = Runtime(platform, units, Parts())
    app = create_app(runtime, title="AIFLUX (test stack)")
    app.mount("/", create_web_app(WebSettings(public_url=base_url)))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, lifespan="on"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            yield Stack(base_url, client, app, runtime, data_dir)
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture
async def stack_factory(
    pg_database: Callable[[str], str],
    tmp_path: Path,
) -> Callable[..., contextlib.AbstractAsyncContextManager[Stack]]:
    """``async with stack_factory(services=[...], overrides={...}) as stack:``."""

    def factory(**kwargs: Any) -> contextlib.AbstractAsyncContextManager[Stack]:
        return run_stack(pg_database, tmp_path / "data", **kwargs)

    return factory
