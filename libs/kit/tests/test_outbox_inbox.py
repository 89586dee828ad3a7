"""Outbox and inbox on both buses: events committed with state are published once confirmed,
and a redelivered event never repeats its effect."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiflux_contracts import Envelope, UserDeleted
from aiflux_kit.bus import Broker, Delivery, Outgoing, Poison, QueueSpec
from aiflux_kit.consumers import Dispatcher, Handler, HandlerContext, Subscription
from aiflux_kit.db import Database
from aiflux_kit.outbox import OutboxRelay, add_event
from sqlalchemy import text

from .conftest import spec
from .test_bus_contract import eventually

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq]


async def count(db: Database, sql: str) -> int:
    async with db.transaction() as session:
        return int((await session.execute(text(sql))).scalar_one())


async def record_effect(ctx: HandlerContext, event: UserDeleted) -> None:
    await ctx.session.execute(text("INSERT INTO effects (note) VALUES (:n)"), {"n": str(event.user_id)})


def subscription(queue_prefix: str) -> Subscription[UserDeleted]:
    return Subscription(name=f"{queue_prefix}-erase", events=(UserDeleted,), handler=record_effect)


async def start_consumer(broker: Broker, db: Database, queue_prefix: str) -> None:
    sub = subscription(queue_prefix)
    queue = spec(queue_prefix, "erase", sub.queue("kit", (100, 200)).routing_keys)
    await broker.consume(queue, Dispatcher("kit", db, sub))


async def test_an_event_committed_with_state_is_relayed_and_handled_once(
    broker: Broker, service_db: Database, queue_prefix: str
):
    await start_consumer(broker, service_db, queue_prefix)
    async with service_db.transaction() as session:
        await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
    relay = OutboxRelay(service_db, broker, poll_interval=0.1)
    assert await relay.relay_batch() == 1
    await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM effects", 1))
    assert await count(service_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0


async def test_a_rolled_back_transaction_publishes_nothing(broker: Broker, service_db: Database):
    with pytest.raises(RuntimeError):
        async with service_db.transaction() as session:
            await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
            raise RuntimeError("the state change failed")
    assert await count(service_db, "SELECT count(*) FROM outbox") == 0


async def test_a_redelivered_event_has_its_effect_once(
    broker: Broker, service_db: Database, queue_prefix: str
):
    await start_consumer(broker, service_db, queue_prefix)
    envelope = Envelope.wrap(UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
    for _ in range(3):  # the same event id, as after a lost ack
        await broker.publish(
            envelope.routing_key,
            envelope.model_dump_json().encode(),
            message_id=str(envelope.event_id),
            headers={},
        )
    await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM inbox", 1))
    await asyncio.sleep(0.5)
    assert await count(service_db, "SELECT count(*) FROM effects") == 1


async def test_an_unroutable_event_stays_unsent_and_is_retried_later(broker: Broker, service_db: Database):
    async with service_db.transaction() as session:
        await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
    relay = OutboxRelay(service_db, broker)
    await relay.relay_batch()
    async with service_db.transaction() as session:
        row = (
            await session.execute(
                text("SELECT sent_at, attempts, last_error, available_at > now() AS later FROM outbox")
            )
        ).one()
    assert row.sent_at is None
    assert row.attempts == 1
    assert "unroutable" in row.last_error
    assert row.later, "a refused row waits before its next try"


async def test_a_malformed_event_is_parked_not_acked(broker: Broker, service_db: Database, queue_prefix: str):
    sub = subscription(queue_prefix)
    queue = spec(queue_prefix, "erase", sub.queue("kit", (100, 200)).routing_keys)
    await broker.consume(queue, Dispatcher("kit", service_db, sub))
    await broker.publish(
        UserDeleted.routing_key(), b'{"type": "UserDeleted", "broken": true}', message_id="m1", headers={}
    )
    await eventually(lambda: _parked_is(broker, queue, 1))
    assert await count(service_db, "SELECT count(*) FROM effects") == 0


async def test_several_relays_share_the_outbox_without_double_publishing(
    broker: Broker, service_db: Database, queue_prefix: str
):
    await _consumer_and_events(broker, service_db, queue_prefix, 60)
    relays = [OutboxRelay(service_db, broker, batch_size=7) for _ in range(3)]

    async def drain(relay: OutboxRelay) -> int:
        total = 0
        while claimed := await relay.relay_batch():
            total += claimed
        return total

    claimed = await asyncio.gather(*(drain(r) for r in relays))
    assert sum(claimed) == 60
    await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM effects", 60), 20)
    assert await count(service_db, "SELECT count(*) FROM inbox") == 60


async def test_a_relay_with_batches_in_flight_publishes_every_row_once(
    broker: Broker, service_db: Database, queue_prefix: str
):
    await _consumer_and_events(broker, service_db, queue_prefix, 60)
    relay = OutboxRelay(service_db, broker, batch_size=7, pipeline=3, poll_interval=0.1)
    stop = asyncio.Event()
    relaying = asyncio.create_task(relay.run(stop))
    try:
        await eventually(lambda: _count_is(service_db, "SELECT count(*) FROM effects", 60), 20)
        await eventually(
            lambda: _count_is(service_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL", 0)
        )
    finally:
        stop.set()
        await asyncio.wait_for(relaying, 10)
    assert await count(service_db, "SELECT count(*) FROM inbox") == 60
    assert await count(service_db, "SELECT count(*) FROM outbox WHERE attempts > 0") == 0


async def _consumer_and_events(broker: Broker, db: Database, queue_prefix: str, events: int) -> None:
    """A consumer of the test's queue, and ``events`` events committed to the outbox."""
    await start_consumer(broker, db, queue_prefix)
    async with db.transaction() as session:
        for _ in range(events):
            await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))


async def _count_is(db: Database, sql: str, expected: int) -> bool:
    return await count(db, sql) == expected


async def _parked_is(broker: Broker, queue, expected: int) -> bool:  # type: ignore[no-untyped-def]
    return await broker.parked_count(queue) == expected


async def test_an_informational_event_without_subscribers_is_not_kept_forever(
    broker: Broker, service_db: Database
):
    from aiflux_contracts import FileStored

    async with service_db.transaction() as session:
        await add_event(
            session,
            FileStored(
                file_id=uuid.uuid4(), user_id=uuid.uuid4(), purpose="input", content_type="image/png", size=1
            ),
        )
    await OutboxRelay(service_db, broker).relay_batch()
    assert await count(service_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0


async def test_messaging_retention_forgets_only_what_is_past_its_period(broker: Broker, service_db: Database):
    from datetime import timedelta

    from aiflux_kit.consumers import forget_handled

    async with service_db.transaction() as session:
        for _ in range(3):
            await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
        await session.execute(
            text(
                "UPDATE outbox SET sent_at = now() - interval '8 days'"
                " WHERE id = (SELECT min(id) FROM outbox)"
            )
        )
        await session.execute(
            text(
                "UPDATE outbox SET sent_at = now() - interval '1 day' WHERE id = (SELECT max(id) FROM outbox)"
            )
        )
        await session.execute(
            text(
                "INSERT INTO inbox (consumer, event_id, routing_key, handled_at) VALUES"
                " ('c', gen_random_uuid(), 'k', now() - interval '31 days'),"
                " ('c', gen_random_uuid(), 'k', now() - interval '29 days')"
            )
        )
    relay = OutboxRelay(service_db, broker)
    assert await relay.forget_published(timedelta(days=7)) == 1
    assert await count(service_db, "SELECT count(*) FROM outbox") == 2  # recent and unsent stay
    assert await count(service_db, "SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 1
    assert await forget_handled(service_db, timedelta(days=30)) == 1
    assert await count(service_db, "SELECT count(*) FROM inbox") == 1


# Batches: the bus hands the Dispatcher several events at once; one transaction covers them.


def envelopes(n: int) -> list[Envelope]:
    return [Envelope.wrap(UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4())) for _ in range(n)]


def user(envelope: Envelope) -> str:
    return str(envelope.payload["user_id"])


def delivery(envelope: Envelope, body: bytes | None = None) -> Delivery:
    return Delivery(
        body if body is not None else envelope.model_dump_json().encode(),
        envelope.routing_key,
        str(envelope.event_id),
        attempt=1,
    )


async def publish_together(broker: Broker, batch: list[Envelope]) -> None:
    errors = await broker.publish_many(
        [Outgoing(e.routing_key, e.model_dump_json().encode(), str(e.event_id)) for e in batch]
    )
    assert errors == [None] * len(batch)


async def effects(db: Database) -> list[str]:
    async with db.transaction() as session:
        return sorted((await session.execute(text("SELECT note FROM effects"))).scalars())


async def test_a_batch_takes_effect_in_one_transaction_and_duplicates_have_none(service_db: Database):
    sessions: set[int] = set()

    async def handler(ctx: HandlerContext, event: UserDeleted) -> None:
        sessions.add(id(ctx.session))
        await record_effect(ctx, event)

    dispatcher = Dispatcher("kit", service_db, Subscription("batch", (UserDeleted,), handler))
    first, second, third = envelopes(3)
    assert await dispatcher.handle_batch([delivery(first)]) == [None]
    sessions.clear()
    # ``first`` again (handled before) and ``second`` twice in the same batch.
    batch = [delivery(first), delivery(second), delivery(second), delivery(third)]
    assert await dispatcher.handle_batch(batch) == [None] * 4
    assert len(sessions) == 1, "one transaction for the batch"
    assert await effects(service_db) == sorted(user(e) for e in (first, second, third))
    assert await count(service_db, "SELECT count(*) FROM inbox") == 3


async def test_a_failing_event_rolls_its_batch_back_and_only_it_fails_on_replay(service_db: Database):
    batch = envelopes(5)
    bad = batch[2].event_id
    calls: list[uuid.UUID] = []

    async def handler(ctx: HandlerContext, event: UserDeleted) -> None:
        calls.append(ctx.envelope.event_id)
        await record_effect(ctx, event)
        if ctx.envelope.event_id == bad:
            raise RuntimeError("this one cannot be handled")

    dispatcher = Dispatcher("kit", service_db, Subscription("batch", (UserDeleted,), handler))
    undecodable = Delivery(b"garbage", UserDeleted.routing_key(), "m-garbage", attempt=1)
    results = await dispatcher.handle_batch([*(delivery(e) for e in batch), undecodable])
    assert [r is None for r in results] == [True, True, False, True, True, False]
    assert isinstance(results[2], RuntimeError)
    assert isinstance(results[5], Poison)
    good = [e for e in batch if e.event_id != bad]
    assert await effects(service_db) == sorted(user(e) for e in good), "once each, none of the bad"
    assert await count(service_db, "SELECT count(*) FROM inbox") == 4
    assert calls[:3] == [e.event_id for e in batch[:3]], "the batch ran until the failure"
    assert sorted(calls[3:]) == sorted(e.event_id for e in batch), "then one transaction per event"


async def gated_consumer(
    broker: Broker, db: Database, queue_prefix: str, handler: Handler
) -> tuple[QueueSpec, asyncio.Event]:
    """A Dispatcher consuming with ``handler``, held until the returned gate opens: what the bus
    delivers meanwhile gathers into a batch."""
    gate = asyncio.Event()

    async def held(ctx: HandlerContext, event: UserDeleted) -> None:
        await gate.wait()
        await handler(ctx, event)

    sub = Subscription(f"{queue_prefix}-erase", (UserDeleted,), held)
    queue = spec(queue_prefix, "erase", sub.queue("kit", ()).routing_keys)
    await broker.consume(queue, Dispatcher("kit", db, sub))
    return queue, gate


async def open_after_publishing(broker: Broker, batch: list[Envelope], gate: asyncio.Event) -> None:
    await publish_together(broker, batch)
    await asyncio.sleep(1.5)
    gate.set()


async def test_a_poison_event_in_a_batch_is_parked_and_the_others_take_effect_once(
    broker: Broker, service_db: Database, queue_prefix: str, caplog: pytest.LogCaptureFixture
):
    batch = envelopes(20)
    bad = batch[-1]

    async def handler(ctx: HandlerContext, event: UserDeleted) -> None:
        await record_effect(ctx, event)
        if ctx.envelope.event_id == bad.event_id:
            raise RuntimeError("downstream refuses this user")

    queue, gate = await gated_consumer(broker, service_db, queue_prefix, handler)
    await open_after_publishing(broker, batch, gate)
    await eventually(lambda: _parked_is(broker, queue, 1), 60)
    good = sorted(user(e) for e in batch if e is not bad)
    await eventually(lambda: _effects_are(service_db, good))
    await asyncio.sleep(0.5)
    assert await effects(service_db) == good
    assert await count(service_db, "SELECT count(*) FROM inbox") == 19
    assert [m.message_id for m in await broker.list_parked(queue)] == [str(bad.event_id)]
    assert "batch rolled back, replaying its events one by one" in caplog.messages, "it was in a batch"


async def test_a_connection_lost_mid_batch_before_commit_leaves_every_effect_once(
    broker: Broker, service_db: Database, queue_prefix: str, caplog: pytest.LogCaptureFixture
):
    batch = envelopes(20)
    killed = False

    async def handler(ctx: HandlerContext, event: UserDeleted) -> None:
        nonlocal killed
        await record_effect(ctx, event)
        if ctx.envelope.event_id == batch[-1].event_id and not killed:
            # Mid-batch: the events before it in this transaction are written, not committed.
            killed = True
            await ctx.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))

    queue, gate = await gated_consumer(broker, service_db, queue_prefix, handler)
    await open_after_publishing(broker, batch, gate)
    expected = sorted(user(e) for e in batch)
    await eventually(lambda: _effects_are(service_db, expected), 60)
    await asyncio.sleep(0.5)
    assert killed
    assert await effects(service_db) == expected
    assert await count(service_db, "SELECT count(*) FROM inbox") == 20
    assert await broker.parked_count(queue) == 0
    assert "batch rolled back, replaying its events one by one" in caplog.messages, "it was in a batch"


async def _effects_are(db: Database, expected: list[str]) -> bool:
    return await effects(db) == expected
