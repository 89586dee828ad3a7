"""Outbox and inbox on both buses: events committed with state are published once confirmed,
and a redelivered event never repeats its effect."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from aiflux_contracts import Envelope, UserDeleted
from aiflux_kit.bus import Broker
from aiflux_kit.consumers import Dispatcher, HandlerContext, Subscription
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
    await start_consumer(broker, service_db, queue_prefix)
    async with service_db.transaction() as session:
        for _ in range(60):
            await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
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
