"""The bus contract, run on RabbitMQ and on the in-process bus alike."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Awaitable, Callable

import pytest
from aiflux_kit.bus import Broker, Delivery, Outgoing, Poison, PublishFailed, Unroutable

from .conftest import spec

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq]


async def eventually(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool], timeout: float = 30.0
) -> None:
    """Wait until ``check`` holds (polling), failing after ``timeout`` seconds (generous: two
    test workers share a loaded 2-core machine; a check that holds returns at once)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def publish(broker: Broker, key: str, body: bytes = b"{}") -> str:
    message_id = str(uuid.uuid4())
    await broker.publish(key, body, message_id=message_id, headers={"x-test": "1"})
    return message_id


async def test_a_published_message_reaches_its_subscription(broker: Broker, queue_prefix: str):
    got: list[Delivery] = []

    async def on_message(d: Delivery) -> None:
        got.append(d)

    await broker.consume(spec(queue_prefix, "a", (f"{queue_prefix}.thing.v1",)), on_message)
    message_id = await publish(broker, f"{queue_prefix}.thing.v1", b'{"x": 1}')
    await eventually(lambda: len(got) == 1)
    assert got[0].body == b'{"x": 1}'
    assert got[0].message_id == message_id
    assert got[0].routing_key == f"{queue_prefix}.thing.v1"
    assert got[0].attempt == 1


async def test_every_bound_queue_gets_its_own_copy_and_wildcards_bind(broker: Broker, queue_prefix: str):
    a: list[Delivery] = []
    b: list[Delivery] = []

    async def to_a(d: Delivery) -> None:
        a.append(d)

    async def to_b(d: Delivery) -> None:
        b.append(d)

    await broker.consume(spec(queue_prefix, "a", (f"{queue_prefix}.thing.v1",)), to_a)
    await broker.consume(spec(queue_prefix, "b", (f"{queue_prefix}.*.v1",)), to_b)
    await publish(broker, f"{queue_prefix}.thing.v1")
    await publish(broker, f"{queue_prefix}.other.v1")
    await eventually(lambda: len(a) == 1 and len(b) == 2)


async def test_an_unroutable_message_is_refused(broker: Broker, queue_prefix: str):
    with pytest.raises(PublishFailed):
        await publish(broker, f"{queue_prefix}.nobody-listens.v1")


async def test_a_batch_answers_for_each_message_and_delivers_the_routable_ones(
    broker: Broker, queue_prefix: str
):
    got: list[Delivery] = []

    async def collect(d: Delivery) -> None:
        got.append(d)

    await broker.consume(spec(queue_prefix, "a", (f"{queue_prefix}.thing.v1",)), collect)
    keys = [f"{queue_prefix}.{'thing' if n % 3 else 'nobody-listens'}.v1" for n in range(30)]
    messages = [Outgoing(key, f'{{"n": {n}}}'.encode(), str(uuid.uuid4())) for n, key in enumerate(keys)]
    results = await broker.publish_many(messages)
    assert [type(r) for r in results] == [type(None) if "thing" in key else Unroutable for key in keys]
    await eventually(lambda: len(got) == 20)
    assert sorted(d.message_id or "" for d in got) == sorted(
        m.message_id for m in messages if "thing" in m.routing_key
    )
    again = await broker.publish_many(messages)  # the same answers on a second try
    assert [type(r) for r in again] == [type(r) for r in results]


async def test_a_failing_handler_is_retried_with_the_attempt_count(broker: Broker, queue_prefix: str):
    await fails_twice_then_is_handled_once(broker, queue_prefix)


async def fails_twice_then_is_handled_once(broker: Broker, queue_prefix: str) -> None:
    """A message whose handler fails twice comes back with attempts 2 and 3, then never again."""
    attempts: list[int] = []

    async def flaky(d: Delivery) -> None:
        attempts.append(d.attempt)
        if len(attempts) < 3:
            raise RuntimeError("temporary")

    await broker.consume(spec(queue_prefix, "flaky", (f"{queue_prefix}.thing.v1",)), flaky)
    await publish(broker, f"{queue_prefix}.thing.v1")
    await eventually(lambda: len(attempts) == 3)
    assert attempts == [1, 2, 3]
    await asyncio.sleep(0.5)
    assert len(attempts) == 3, "a handled message must not come back"


async def test_a_message_that_keeps_failing_is_parked_and_replay_delivers_it(
    broker: Broker, queue_prefix: str
):
    healthy = asyncio.Event()
    handled: list[int] = []

    async def handler(d: Delivery) -> None:
        if not healthy.is_set():
            raise RuntimeError("downstream is broken for alice@example.com")
        handled.append(d.attempt)

    queue = spec(queue_prefix, "poisoned", (f"{queue_prefix}.thing.v1",))
    await broker.consume(queue, handler)
    await publish(broker, f"{queue_prefix}.thing.v1")
    await eventually(lambda: broker.parked_count(queue))
    await eventually(lambda: _equals(broker.parked_count(queue), 1))
    parked = await broker.list_parked(queue)
    assert len(parked) == 1 and "RuntimeError" in (parked[0].last_error or "")
    assert "alice@example.com" not in (parked[0].last_error or ""), "errors may quote input"
    assert handled == []

    healthy.set()
    assert await broker.replay_parked(queue) == 1
    await eventually(lambda: handled == [1])
    await eventually(lambda: _equals(broker.parked_count(queue), 0))


async def test_poison_is_parked_at_once_without_retries(broker: Broker, queue_prefix: str):
    seen: list[int] = []

    async def refuse(d: Delivery) -> None:
        seen.append(d.attempt)
        raise Poison("cannot decode")

    queue = spec(queue_prefix, "strict", (f"{queue_prefix}.thing.v1",))
    await broker.consume(queue, refuse)
    await publish(broker, f"{queue_prefix}.thing.v1", b"garbage")
    await eventually(lambda: _equals(broker.parked_count(queue), 1))
    assert seen == [1]


async def test_close_lets_in_flight_handlers_finish(broker: Broker, queue_prefix: str):
    started = asyncio.Event()
    finished: list[str] = []

    async def slow(d: Delivery) -> None:
        started.set()
        await asyncio.sleep(0.5)
        finished.append(d.message_id or "")

    await broker.consume(spec(queue_prefix, "slow", (f"{queue_prefix}.thing.v1",)), slow)
    message_id = await publish(broker, f"{queue_prefix}.thing.v1")
    await asyncio.wait_for(started.wait(), 10)
    await broker.close(drain_timeout=5)
    assert finished == [message_id]


async def _equals(value: Awaitable[int], expected: int) -> bool:
    return await value == expected
