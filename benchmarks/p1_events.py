"""P1: outbox → bus → inbox handler, events/s, on RabbitMQ and on the in-process bus, each
against raw aio-pika in the same run (quorum queue, publisher confirms with 100 in flight,
prefetch 100, one consumer acking each message). Also the embedded mode's time to ready.

The system side uses the kit as a service does, with its default settings: events are written
to the outbox first (not timed), then the relay and the consumer run until the handler has seen
every event (timed)."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator

from .harness import AMQP, Bench, Row

IN_FLIGHT = 100
PREFETCH = 100
EMBEDDED_READY_TARGET_S = 60.0


async def _handled(ctx, event) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    await ctx.session.execute(text("SELECT 1"))  # the smallest handler that touches its DB


def _event():  # type: ignore[no-untyped-def]
    from aiflux_contracts import UserDeleted

    return UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4())


async def _inbox_count(db) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import text

    async with db.engine.connect() as conn:
        return int((await conn.execute(text("SELECT count(*) FROM inbox"))).scalar_one())


async def system_rate(bench: Bench, bus: str, events: int, amqp: str) -> float:
    """Events/s through the kit's outbox relay, ``bus`` and inbox dispatcher."""
    from aiflux_contracts import UserDeleted
    from aiflux_kit.bus.local import LocalBroker
    from aiflux_kit.bus.rabbitmq import RabbitBroker
    from aiflux_kit.consumers import Dispatcher, Subscription
    from aiflux_kit.db import Database, make_base
    from aiflux_kit.outbox import OutboxRelay, add_event
    from aiflux_kit.settings import ServiceSettings
    from sqlalchemy import create_engine

    tag = uuid.uuid4().hex[:6]
    url = bench.databases(f"p1_{bus}_{tag}")
    engine = create_engine(url)
    make_base().metadata.create_all(engine)
    engine.dispose()
    db = Database(url)
    broker = (
        LocalBroker(bench.databases(f"p1_bus_{tag}"))
        if bus == "local"
        else RabbitBroker(amqp, exchange=f"bench.{tag}")
    )
    await broker.connect()
    stop = asyncio.Event()
    relaying: asyncio.Task[None] | None = None
    try:
        subscription = Subscription(f"bench-{tag}", (UserDeleted,), _handled)
        await broker.consume(subscription.queue("bench", (200, 500)), Dispatcher("bench", db, subscription))
        async with db.transaction() as session:
            for _ in range(events):
                await add_event(session, _event())
        defaults = ServiceSettings.model_fields
        relay = OutboxRelay(
            db,
            broker,
            batch_size=defaults["outbox_batch_size"].default,
            poll_interval=defaults["outbox_poll_interval_s"].default,
        )
        with bench.profiler.around(f"P1 {bus}"):
            started = time.perf_counter()
            relaying = asyncio.create_task(relay.run(stop))
            while await _inbox_count(db) < events:  # noqa: ASYNC110 - committed rows count
                await asyncio.sleep(0.02)
            elapsed = time.perf_counter() - started
        return events / elapsed
    finally:
        stop.set()
        await broker.close(5)
        if relaying is not None:
            await relaying
        await db.dispose()


async def raw_rate(events: int, amqp: str) -> float:
    """Events/s of bare aio-pika: quorum queue, confirms with 100 in flight, prefetch 100."""
    import aio_pika

    body = _event().model_dump_json().encode()
    connection = await aio_pika.connect(amqp)
    try:
        publish_channel = await connection.channel(publisher_confirms=True)
        consume_channel = await connection.channel()
        await consume_channel.set_qos(prefetch_count=PREFETCH)
        queue = await consume_channel.declare_queue(
            f"bench.raw.{uuid.uuid4().hex[:6]}", durable=True, arguments={"x-queue-type": "quorum"}
        )
        done = asyncio.Event()
        received = 0

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal received
            await message.ack()
            received += 1
            if received >= events:
                done.set()

        consumer_tag = await queue.consume(on_message)
        in_flight = asyncio.Semaphore(IN_FLIGHT)
        exchange = publish_channel.default_exchange

        async def publish() -> None:
            async with in_flight:
                await exchange.publish(
                    aio_pika.Message(body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT), queue.name
                )

        started = time.perf_counter()
        await asyncio.gather(*(publish() for _ in range(events)))
        await done.wait()
        elapsed = time.perf_counter() - started
        await queue.cancel(consumer_tag)
        await queue.delete(if_unused=False, if_empty=False)
        return events / elapsed
    finally:
        await connection.close()


def _rabbitmqctl(*args: str, check: bool) -> None:
    ctl = shutil.which("rabbitmqctl") or "/usr/sbin/rabbitmqctl"
    subprocess.run([ctl, *args], check=check, capture_output=True, timeout=60)  # noqa: S603


@contextlib.asynccontextmanager
async def rabbit_vhost() -> AsyncIterator[str]:
    """A RabbitMQ vhost of this run (its queues and exchanges go with it), as an AMQP URL."""
    name = f"bench-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(_rabbitmqctl, "add_vhost", name, check=True)
    try:
        await asyncio.to_thread(
            _rabbitmqctl, "set_permissions", "-p", name, "guest", ".*", ".*", ".*", check=True
        )
        yield AMQP.rstrip("/") + f"/{name}"
    finally:
        await asyncio.to_thread(_rabbitmqctl, "delete_vhost", name, check=False)


def embedded_time_to_ready() -> float:
    """Start `aiflux embedded` on a fresh data dir; seconds until every service is ready."""
    import os
    import signal
    import socket
    import sys
    import tempfile

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "AIFLUX_DATA_DIR": data_dir, "PORT": str(port)}
        started = time.perf_counter()
        process = subprocess.Popen(
            [sys.executable, "-m", "aiflux_runner.cli", "embedded"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while time.perf_counter() - started < 300:
                try:
                    services = httpx.get(f"http://127.0.0.1:{port}/healthz").json()["services"]
                    if len(services) == 5 and all(v["status"] == "ready" for v in services.values()):
                        return time.perf_counter() - started
                except (httpx.TransportError, ValueError, KeyError):
                    pass
                time.sleep(0.2)
            return float("inf")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


async def measure(bench: Bench) -> list[Row]:
    """Both buses against raw aio-pika, repeated; then (full scale) the embedded start."""
    events = bench.options.pick(200, 3_000)
    rabbit = Row("P1", "outbox → RabbitMQ → inbox", "events/s", True, min_ratio=0.6)
    local = Row("P1", "outbox → in-process bus → inbox", "events/s", True, min_ratio=0.5)
    async with rabbit_vhost() as amqp:
        for _ in range(bench.options.repeat):
            raw = await raw_rate(events, amqp)
            rabbit.raw.append(raw)
            local.raw.append(raw)
            rabbit.system.append(await system_rate(bench, "rabbitmq", events, amqp))
            local.system.append(await system_rate(bench, "local", events, amqp))
    rows = [rabbit, local]
    if bench.options.scale == "full":
        ready = Row("P1", "embedded mode: start to all ready", "s", False, max_value=EMBEDDED_READY_TARGET_S)
        ready.system.append(await asyncio.to_thread(embedded_time_to_ready))
        rows.append(ready)
    return rows
