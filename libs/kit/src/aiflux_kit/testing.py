"""Pytest fixtures for tests against the real PostgreSQL, RabbitMQ and Redis.

Under ``CI=true`` a missing server fails the test; elsewhere it is skipped with a clear message.
Each test gets databases of its own, created fresh and dropped afterwards.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import urlparse

import pytest

from .db import drop_database, ensure_database

PG_URL = os.environ.get("AIFLUX_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/")
AMQP_URL = os.environ.get("AIFLUX_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
REDIS_URL = os.environ.get("AIFLUX_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("postgresql+psycopg", "postgresql"))
    try:
        with socket.create_connection(
            (parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=2
        ):
            return True
    except OSError:
        return False


def require(name: str, url: str, default_port: int) -> None:
    """Fail (CI) or skip (a developer's machine) when the server behind ``url`` is down."""
    if _reachable(url, default_port):
        return
    message = f"{name} is not reachable at {url}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(f"{message}; start it to run this test")


def _database_factory() -> Iterator[Callable[[str], str]]:
    require("PostgreSQL", PG_URL, 5432)
    made: list[str] = []
    run = uuid.uuid4().hex[:10]

    def make(name: str) -> str:
        url = f"{PG_URL.rstrip('/')}/t{run}_{name}"
        ensure_database(url)
        made.append(url)
        return url

    yield make
    for url in made:
        drop_database(url)


@pytest.fixture
def pg_database() -> Iterator[Callable[[str], str]]:
    """A factory of fresh, empty databases on the test PostgreSQL; dropped after the test."""
    yield from _database_factory()


@pytest.fixture(scope="module")
def module_databases() -> Iterator[Callable[[str], str]]:
    """Like ``pg_database``, but shared by one test module (for a stack the module reuses)."""
    yield from _database_factory()


@pytest.fixture
def amqp_url() -> str:
    """The test RabbitMQ (fails in CI, skips elsewhere, when it is down)."""
    require("RabbitMQ", AMQP_URL, 5672)
    return AMQP_URL


@pytest.fixture
def redis_url() -> str:
    """The test Redis (fails in CI, skips elsewhere, when it is down)."""
    require("Redis", REDIS_URL, 6379)
    return REDIS_URL


@pytest.fixture
async def local_broker(pg_database: Callable[[str], str]) -> AsyncIterator[object]:
    """A connected in-process (PostgreSQL-backed) bus on a fresh database."""
    from .bus.local import LocalBroker

    broker = LocalBroker(pg_database("bus"), poll_interval=0.2)
    await broker.connect()
    yield broker
    await broker.close(drain_timeout=5)


class TestSessions:
    """A session verifier for tests of one service without identity in the stack.

    End-to-end tests use identity's real sessions instead.
    """

    __test__ = False

    def __init__(self) -> None:
        self._principals: dict[str, object] = {}

    def sign_in(
        self,
        user_id: uuid.UUID | None = None,
        *,
        roles: frozenset[str] = frozenset(),
        policy_accepted: bool = True,
    ) -> tuple[uuid.UUID, dict[str, str]]:
        """A new session; returns the user id and the headers (Bearer token) to send."""
        from .auth import Principal, token_hash

        user_id = user_id or uuid.uuid4()
        token = uuid.uuid4().hex
        self._principals[token] = Principal(
            user_id, token_hash(token), token_hash("csrf"), roles, policy_accepted
        )
        return user_id, {"Authorization": f"Bearer {token}"}

    async def verify(self, session_token: str) -> object | None:
        """The principal signed in with ``session_token``."""
        return self._principals.get(session_token)

    def forget(self, user_id: uuid.UUID, session_id_hash: str | None) -> None:
        """Drop sessions of ``user_id``."""
        for token, principal in list(self._principals.items()):
            if getattr(principal, "user_id", None) == user_id:
                del self._principals[token]


async def eventually(
    check: Callable[[], Awaitable[Any]],
    timeout: float = 30.0,  # noqa: ASYNC109
    interval: float = 0.1,
) -> Any:
    """Poll the async ``check`` until it returns something truthy (its value), failing at the
    deadline: how tests wait for asynchronous effects without timing assertions. The deadline is
    generous (a loaded 2-core CI machine): a passing check returns as soon as it holds."""
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(interval)


def loopback_socket() -> socket.socket:
    """A TCP socket bound to a free loopback port, for a uvicorn server of a test or bench.

    IPPROTO_TCP named: asyncio sets TCP_NODELAY only on sockets whose proto says TCP (an
    accepted connection inherits it); with proto 0 each keep-alive response waited ~40 ms for
    the client's delayed ACK (Nagle). uvicorn's own host/port sockets name it.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextlib.asynccontextmanager
async def serve_app(app: Any, **config: Any) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on a free loopback port in this event loop; yield its base
    URL. ``config`` adds uvicorn options (default: no lifespan, no log config)."""
    import uvicorn

    sock = loopback_socket()
    options: dict[str, Any] = {"log_config": None, "lifespan": "off", **config}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        await task
        sock.close()
