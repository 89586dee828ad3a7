"""Fixtures for the kit's own tests: both buses, and a service-like database."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import aio_pika
import pytest
from aiflux_kit.bus import Broker, QueueSpec
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.bus.rabbitmq import RabbitBroker
from aiflux_kit.db import Database, make_base
from sqlalchemy import Column, Integer, String, Table, create_engine

FAST_RETRIES = (100, 200)


@pytest.fixture
def queue_prefix() -> str:
    """A unique queue-name prefix, so tests never share queues."""
    return f"t{uuid.uuid4().hex[:8]}"


async def _delete_queues(amqp_url: str, prefix: str) -> None:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        api_queues = _declared.pop(prefix, set())
        for name in api_queues:
            await channel.queue_delete(name)
        await channel.exchange_delete(f"{prefix}.events")


_declared: dict[str, set[str]] = {}


def spec(prefix: str, name: str, keys: tuple[str, ...], **kwargs: object) -> QueueSpec:
    """A queue spec under the test's prefix, remembered for clean-up."""
    queue = QueueSpec(f"{prefix}.{name}", keys, retry_delays_ms=FAST_RETRIES, **kwargs)  # type: ignore[arg-type]
    _declared.setdefault(prefix, set()).update(
        {queue.name, queue.parking, *(f"{queue.name}.retry.{n}" for n in range(len(FAST_RETRIES)))}
    )
    return queue


@pytest.fixture(params=["local", "rabbitmq"])
async def broker(request: pytest.FixtureRequest, queue_prefix: str) -> AsyncIterator[Broker]:
    """Each bus implementation, connected; the same contract tests run on both."""
    made: Broker
    if request.param == "local":
        make_db: Callable[[str], str] = request.getfixturevalue("pg_database")
        made = LocalBroker(make_db("bus"), poll_interval=0.1)
    else:
        amqp_url: str = request.getfixturevalue("amqp_url")
        made = RabbitBroker(amqp_url, exchange=f"{queue_prefix}.events")
    await made.connect()
    yield made
    await made.close(drain_timeout=5)
    if request.param == "rabbitmq":
        await _delete_queues(request.getfixturevalue("amqp_url"), queue_prefix)


EFFECTS_METADATA_TABLE = "effects"


@pytest.fixture
def service_db(pg_database: Callable[[str], str]) -> Database:
    """A service-like database: the kit's messaging tables plus an ``effects`` table."""
    url = pg_database("svc")
    base = make_base()
    Table(
        EFFECTS_METADATA_TABLE,
        base.metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("note", String(200), nullable=False),
    )
    engine = create_engine(url)
    base.metadata.create_all(engine)  # the kit's own tests are the one place for create_all
    engine.dispose()
    return Database(url)
