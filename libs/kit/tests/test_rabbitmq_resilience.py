"""What the broker and consumers may do to us, on the real RabbitMQ: an outage between the
relay and the broker, and a consumer process that dies mid-message."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from aiflux_contracts import Envelope, UserDeleted
from aiflux_kit.bus import Delivery, Outgoing, QueueSpec
from aiflux_kit.bus.rabbitmq import RabbitBroker
from aiflux_kit.consumers import Dispatcher
from aiflux_kit.db import Database
from aiflux_kit.outbox import OutboxRelay, add_event
from aiflux_kit.tcp_proxy import TcpProxy

from .conftest import _declared, spec
from .test_bus_contract import eventually
from .test_outbox_inbox import _count_is, count, subscription

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq]


@pytest.fixture
async def exchange_cleanup(amqp_url: str, queue_prefix: str):
    yield f"{queue_prefix}.events"
    from .conftest import _delete_queues

    await _delete_queues(amqp_url, queue_prefix)


async def test_an_event_committed_during_a_broker_outage_is_delivered_afterwards(
    amqp_url: str, service_db: Database, queue_prefix: str, exchange_cleanup: str
):
    consumer = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await consumer.connect()
    sub = subscription(queue_prefix)
    await consumer.consume(
        spec(queue_prefix, "erase", sub.queue("kit", ()).routing_keys), Dispatcher("kit", service_db, sub)
    )

    proxy = TcpProxy("127.0.0.1", 5672)
    await proxy.start()
    relay_broker = RabbitBroker(
        amqp_url.replace(":5672", f":{proxy.port}"),
        exchange=exchange_cleanup,
        publish_timeout=2,
        reconnect_interval=0.3,
    )
    await relay_broker.connect()
    relay = OutboxRelay(service_db, relay_broker, poll_interval=0.2)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    try:
        await proxy.cut()
        async with service_db.transaction() as session:
            await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
        await eventually(
            lambda: _count_is(
                service_db, "SELECT count(*) FROM outbox WHERE attempts > 0 AND sent_at IS NULL", 1
            )
        )
        assert await count(service_db, "SELECT count(*) FROM effects") == 0

        await proxy.restore()
        await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM effects", 1), 40)
        await eventually(
            lambda: _count_is(service_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0)
        )
    finally:
        stop.set()
        await relaying
        await relay_broker.close(1)
        await consumer.close(1)


@pytest.mark.parametrize("mode", ["hang", "die-after-commit"])
async def test_a_consumer_killed_mid_message_leads_to_redelivery_and_one_effect(
    amqp_url: str, service_db: Database, queue_prefix: str, exchange_cleanup: str, mode: str
):
    queue = spec(queue_prefix, "erase", (UserDeleted.routing_key(),))
    _declared[queue_prefix].add(queue.name)
    script = Path(__file__).with_name("consumer_process.py")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        amqp_url,
        exchange_cleanup,
        queue.name,
        service_db.url,
        mode,
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == b"READY"

    publisher = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await publisher.connect()
    envelope = Envelope.wrap(UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
    await publisher.publish(
        envelope.routing_key,
        envelope.model_dump_json().encode(),
        message_id=str(envelope.event_id),
        headers={},
    )
    signal = b"HANDLING" if mode == "hang" else b"COMMITTED"
    assert (await asyncio.wait_for(process.stdout.readline(), 30)).strip() == signal
    if mode == "hang":
        process.kill()
    await process.wait()

    survivor = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await survivor.connect()
    sub = subscription(queue_prefix)
    await survivor.consume(
        QueueSpec(queue.name, queue.routing_keys, retry_delays_ms=(100, 200)),
        Dispatcher("kit", service_db, sub),
    )
    try:
        await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM inbox", 1), 30)
        await asyncio.sleep(0.5)
        assert await count(service_db, "SELECT count(*) FROM effects") == 1
    finally:
        await survivor.close(1)
        await publisher.close(1)


async def test_a_consumer_killed_mid_batch_leads_to_redelivery_and_one_effect_per_event(
    amqp_url: str, service_db: Database, queue_prefix: str, exchange_cleanup: str
):
    queue = spec(queue_prefix, "erase", (UserDeleted.routing_key(),))
    _declared[queue_prefix].add(queue.name)
    script = Path(__file__).with_name("consumer_process.py")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(script),
        amqp_url,
        exchange_cleanup,
        queue.name,
        service_db.url,
        "hang-in-batch",
        stdout=asyncio.subprocess.PIPE,
    )
    assert process.stdout is not None
    assert (await asyncio.wait_for(process.stdout.readline(), 120)).strip() == b"READY"

    publisher = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await publisher.connect()
    batch = [Envelope.wrap(UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4())) for _ in range(8)]
    errors = await publisher.publish_many(
        [Outgoing(e.routing_key, e.model_dump_json().encode(), str(e.event_id)) for e in batch]
    )
    assert errors == [None] * 8
    assert (await asyncio.wait_for(process.stdout.readline(), 120)).strip() == b"HANDLING"
    assert await count(service_db, "SELECT count(*) FROM effects") == 0, "nothing committed yet"
    process.kill()
    await process.wait()

    survivor = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await survivor.connect()
    sub = subscription(queue_prefix)
    await survivor.consume(
        QueueSpec(queue.name, queue.routing_keys, retry_delays_ms=(100, 200)),
        Dispatcher("kit", service_db, sub),
    )
    try:
        await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM inbox", 8), 120)
        await asyncio.sleep(0.5)
        assert await count(service_db, "SELECT count(*) FROM effects") == 8
        assert await count(service_db, "SELECT count(DISTINCT note) FROM effects") == 8
    finally:
        await survivor.close(1)
        await publisher.close(1)


class _SlowFirstBatch:
    """A batch handler whose first batch takes a while, so later batches finish before it."""

    def __init__(self, fail: set[bytes]) -> None:
        self.seen: list[bytes] = []
        self.batches = 0
        self.fail = fail

    async def __call__(self, delivery: Delivery) -> None:  # pragma: no cover - batches only
        raise AssertionError("batches only")

    async def handle_batch(self, deliveries: list[Delivery]) -> list[Exception | None]:
        self.batches += 1
        if self.batches == 1:
            await asyncio.sleep(0.5)
        self.seen.extend(d.body for d in deliveries)
        return [RuntimeError("once") if d.body in self.fail and d.attempt == 1 else None for d in deliveries]


async def test_batches_finishing_out_of_order_are_each_acked_once(
    amqp_url: str, queue_prefix: str, exchange_cleanup: str
):
    # The later batches finish first and wait for the slow one; one of them also has a message
    # retried. Nothing may be acked twice (a channel error would redeliver everything) or left
    # unacked (a new consumer would get it again).
    key = f"{queue_prefix}.thing.v1"
    queue = spec(queue_prefix, "acks", (key,), batch_size=4, prefetch=40)
    bodies = [f'{{"n": {n}}}'.encode() for n in range(16)]
    handler = _SlowFirstBatch(fail={bodies[9]})
    consumer = RabbitBroker(amqp_url, exchange=exchange_cleanup, batches_in_flight=4, linger=0.05)
    await consumer.connect()
    await consumer.consume(queue, handler)
    errors = await consumer.publish_many([Outgoing(key, body, str(uuid.uuid4())) for body in bodies])
    assert errors == [None] * 16
    try:
        await eventually(lambda: len(handler.seen) == 17, 20)  # 16, and the retried one again
        await asyncio.sleep(0.5)
        assert sorted(handler.seen) == sorted([*bodies, bodies[9]])
    finally:
        await consumer.close(1)

    again: list[Delivery] = []

    async def collect(delivery: Delivery) -> None:
        again.append(delivery)

    later = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await later.connect()
    try:
        await later.consume(queue, collect)
        await asyncio.sleep(1.0)
        assert again == [], "every message was settled by the first consumer"
    finally:
        await later.close(1)


async def _publish_event(publisher: RabbitBroker) -> None:
    envelope = Envelope.wrap(UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
    errors = await publisher.publish_many(
        [Outgoing(envelope.routing_key, envelope.model_dump_json().encode(), str(envelope.event_id))]
    )
    assert errors == [None]


async def test_a_consumer_whose_connection_drops_consumes_again_once_it_is_back(
    amqp_url: str, service_db: Database, queue_prefix: str, exchange_cleanup: str
):
    # The consumer sits on aiormq's channel, under aio-pika's robust one: after the reconnect
    # it must be consuming again, or events would pile up in the queue unseen.
    proxy = TcpProxy("127.0.0.1", 5672)
    await proxy.start()
    consumer = RabbitBroker(
        amqp_url.replace(":5672", f":{proxy.port}"), exchange=exchange_cleanup, reconnect_interval=0.3
    )
    publisher = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await consumer.connect()
    await publisher.connect()
    sub = subscription(queue_prefix)
    await consumer.consume(
        spec(queue_prefix, "erase", sub.queue("kit", ()).routing_keys), Dispatcher("kit", service_db, sub)
    )
    try:
        await _publish_event(publisher)
        await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM effects", 1), 20)

        await proxy.cut()
        await eventually(lambda: not consumer.connected)
        await _publish_event(publisher)  # queued while the consumer is away
        await proxy.restore()
        await eventually(lambda: consumer.connected, 30)
        await _publish_event(publisher)

        await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM effects", 3), 30)
        await asyncio.sleep(0.5)
        assert await count(service_db, "SELECT count(*) FROM effects") == 3
    finally:
        await publisher.close(1)
        await consumer.close(1)
        await proxy.cut()


async def test_a_consumer_the_broker_cancels_consumes_again(
    amqp_url: str, service_db: Database, queue_prefix: str, exchange_cleanup: str
):
    # Deleting the queue cancels its consumers (basic.cancel from the broker): the consumer
    # declares its queue again and goes on consuming.
    consumer = RabbitBroker(amqp_url, exchange=exchange_cleanup, reconnect_interval=0.3)
    publisher = RabbitBroker(amqp_url, exchange=exchange_cleanup)
    await consumer.connect()
    await publisher.connect()
    sub = subscription(queue_prefix)
    queue = spec(queue_prefix, "erase", sub.queue("kit", ()).routing_keys)
    await consumer.consume(queue, Dispatcher("kit", service_db, sub))
    try:
        import aio_pika

        connection = await aio_pika.connect(amqp_url)
        async with connection:
            channel = await connection.channel()
            await channel.queue_delete(queue.name)

        async def consuming_again() -> bool:
            await _publish_event(publisher)  # unroutable (raises) until the queue is back
            return True

        await eventually(lambda: _succeeds(consuming_again), 20)
        await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM effects", 1), 20)
    finally:
        await publisher.close(1)
        await consumer.close(1)


async def _succeeds(attempt: Callable[[], Awaitable[bool]]) -> bool:
    try:
        return bool(await attempt())
    except AssertionError:
        return False


async def test_a_consumer_closes_promptly_while_its_broker_is_unreachable(
    amqp_url: str, queue_prefix: str, exchange_cleanup: str
):
    # A process told to stop during a broker outage must not wait for the broker, per
    # subscription, before it exits (Kubernetes would kill it mid-drain).
    proxy = TcpProxy("127.0.0.1", 5672)
    await proxy.start()
    consumer = RabbitBroker(amqp_url.replace(":5672", f":{proxy.port}"), exchange=exchange_cleanup)
    await consumer.connect()

    async def ignore(_: Delivery) -> None:
        return None

    for n in range(4):
        await consumer.consume(spec(queue_prefix, f"q{n}", (f"{queue_prefix}.thing{n}.v1",)), ignore)
    await proxy.cut()
    await eventually(lambda: not consumer.connected)
    try:
        await asyncio.wait_for(consumer.close(1), 10)  # 4 subscriptions x 5 s before
    finally:
        await proxy.cut()
