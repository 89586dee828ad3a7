"""The RabbitMQ bus (aio-pika).

Topology, per subscription queue ``Q``:

- ``Q``: a durable quorum queue bound to the ``aiflux.events`` topic exchange.
- ``Q.retry.<n>``: durable queues with a message TTL of the n-th retry delay whose dead-letter
  target is ``Q`` (through the default exchange): a failed message waits there, then returns.
- ``Q.parking``: a durable quorum queue; messages land here after their last retry, or at once
  when they are poison. ``replay_parked`` moves them back to ``Q``.

``broadcast`` declares an exclusive, auto-delete, non-durable queue per connection (so per
process) bound to its keys: each process gets its own copy.

Publishing uses publisher confirms and ``mandatory``: a message no queue is bound for comes back
and raises :class:`PublishFailed`, so the outbox keeps it. ``publish_many`` puts a whole batch in
flight with one write on aiormq's channel and awaits the confirms together (one timeout for the
batch; no task, lock hold or socket drain per message).

Consumers sit on aiormq's channel under aio-pika's robust one (no ``IncomingMessage`` and second
task per delivery) and consume again after a reconnect or a cancel by the broker. Consuming
gathers deliveries into batches of up to ``spec.batch`` and hands each to the handler,
with ``batches_in_flight`` batches per queue at most: a batch leaves when full or ``linger``
seconds after its first message, and while the limit is reached deliveries gather until a batch
in flight is done (so batches grow with the load, like a group commit). Every message is then
acked, retried or parked on its own, after the handler answered for the whole batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any, cast

import aio_pika
import aiormq
from aio_pika.abc import (
    AbstractChannel,
    AbstractExchange,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
    AbstractRobustQueue,
)
from aiormq.abc import ChannelFrame, DeliveredMessage
from pamqp import commands as spec
from pamqp.header import ContentHeader

from ..tracing_export import tracing_enabled
from . import (
    ATTEMPT_HEADER,
    ERROR_HEADER,
    EXCHANGE,
    Delivery,
    OnBatch,
    OnMessage,
    Outgoing,
    ParkedMessage,
    Poison,
    PublishFailed,
    QueueSpec,
    QueueStats,
    Unroutable,
    batch_handler,
    deliver_broadcast,
    describe_failure,
    next_step,
)

log = logging.getLogger(__name__)


class RabbitBroker:
    """The bus on RabbitMQ."""

    def __init__(
        self,
        url: str,
        *,
        exchange: str = EXCHANGE,
        publish_timeout: float = 10.0,
        reconnect_interval: float = 1.0,
        linger: float = 0.005,
        batches_in_flight: int = 2,
    ) -> None:
        self._url = url
        self._exchange_name = exchange
        self._publish_timeout = publish_timeout
        self._reconnect_interval = reconnect_interval
        self._linger = linger
        self._batches_in_flight = batches_in_flight
        self._connection: AbstractRobustConnection | None = None
        # Publishing has a connection of its own (RabbitMQ's advice): a publisher throttled by
        # flow control never stalls deliveries, and confirms of a large relay batch do not
        # queue behind consumer traffic on the same socket.
        self._publish_connection: AbstractRobustConnection | None = None
        self._publish_channel: AbstractChannel | None = None
        self._exchange: AbstractExchange | None = None
        self._consumers: list[tuple[AbstractChannel, str]] = []
        self._in_flight: set[asyncio.Task[None]] = set()
        self._closing = False

    async def connect(self) -> None:
        """Connect (reconnecting by itself after outages) and declare the exchange."""
        self._connection = await aio_pika.connect_robust(
            self._url,
            reconnect_interval=self._reconnect_interval,
            client_properties={"connection_name": "aiflux"},
        )
        self._publish_connection = await aio_pika.connect_robust(
            self._url,
            reconnect_interval=self._reconnect_interval,
            client_properties={"connection_name": "aiflux-publish"},
        )
        self._publish_channel = await self._publish_connection.channel(
            publisher_confirms=True, on_return_raises=True
        )
        self._exchange = await self._publish_channel.declare_exchange(
            self._exchange_name, aio_pika.ExchangeType.TOPIC, durable=True
        )

    @property
    def connected(self) -> bool:
        """True while the connection is open."""
        return _up(self._connection) and _up(self._publish_connection)

    @property
    def consumers_attached(self) -> int:
        """Subscriptions consuming right now."""
        return len(self._consumers) if self.connected and not self._closing else 0

    async def publish(
        self, routing_key: str, body: bytes, *, message_id: str, headers: dict[str, Any]
    ) -> None:
        """Publish to the topic exchange and wait for the broker's confirm."""
        if self._exchange is None:
            raise PublishFailed("not connected")
        await self._confirmed(self._exchange, routing_key, self._message(body, message_id, headers))

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[PublishFailed | None]:
        """Publish all to the topic exchange at once; await their confirms together (those
        still unconfirmed after ``publish_timeout`` seconds without any confirm fail)."""
        exchange = self._exchange
        if exchange is None or self._publish_channel is None:
            return [PublishFailed("not connected") for _ in messages]
        if not messages:
            return []
        tasks: list[asyncio.Future[Any]]
        release: Callable[[], None] | None = None
        if tracing_enabled():
            # Through aio-pika's Exchange.publish, which its instrumentation wraps in a span.
            tasks = [
                asyncio.ensure_future(
                    exchange.publish(
                        self._message(m.body, m.message_id, m.headers), m.routing_key, mandatory=True
                    )
                )
                for m in messages
            ]
        else:
            # Straight to the channel as one write (the confirm is what proves the broker has
            # each message): no task, lock hold or socket drain per message.
            try:
                # A robust channel waits here until the connection is back: bound that wait.
                channel = cast(
                    aiormq.Channel,
                    await asyncio.wait_for(
                        self._publish_channel.get_underlay_channel(), self._publish_timeout
                    ),
                )
                tasks, release = await _send_batch(channel, self._exchange_name, messages)
            except Exception as closed:
                return [_publish_error(closed, m.routing_key) for m in messages]
        try:
            # The timeout bounds a wait without progress: a slow broker still confirms a large
            # batch.
            pending: set[asyncio.Future[Any]] = set(tasks)
            while pending:
                done, pending = await asyncio.wait(pending, timeout=self._publish_timeout)
                if not done:
                    break
            for task in pending:
                task.cancel()
        finally:
            if release is not None:
                release()
        results: list[PublishFailed | None] = []
        for message, task in zip(messages, tasks, strict=True):
            if task in pending:
                results.append(PublishFailed("broker unavailable: TimeoutError"))
                continue
            exc = task.exception()
            results.append(
                _publish_error(exc, message.routing_key) if exc is not None else _unconfirmed(task.result())
            )
        return results

    async def _confirmed(
        self, exchange: AbstractExchange, routing_key: str, message: aio_pika.Message
    ) -> None:
        try:
            result = await asyncio.wait_for(
                exchange.publish(message, routing_key, mandatory=True),
                timeout=self._publish_timeout,
            )
        except Exception as exc:
            raise _publish_error(exc, routing_key) from exc
        failure = _unconfirmed(result)
        if failure is not None:
            raise failure

    @staticmethod
    def _message(body: bytes, message_id: str | None, headers: dict[str, Any]) -> aio_pika.Message:
        return aio_pika.Message(
            body,
            message_id=message_id,
            headers=headers,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        )

    async def _declare(self, channel: AbstractChannel, spec: QueueSpec) -> AbstractQueue:
        queue = await channel.declare_queue(spec.name, durable=True, arguments={"x-queue-type": "quorum"})
        for key in spec.routing_keys:
            await queue.bind(self._exchange_name, key)
        for n, delay in enumerate(spec.retry_delays_ms):
            await channel.declare_queue(
                f"{spec.name}.retry.{n}",
                durable=True,
                arguments={
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": spec.name,
                },
            )
        await channel.declare_queue(spec.parking, durable=True, arguments={"x-queue-type": "quorum"})
        return queue

    async def consume(self, spec: QueueSpec, on_message: OnMessage) -> None:
        """Declare the topology of ``spec`` and start consuming in batches, bounded by the
        prefetch.

        The consumer sits on aiormq's channel under the robust aio-pika channel (no
        ``IncomingMessage`` and second task per delivery): the robust channel restores the qos
        and the queue after a reconnect, then its reopen callback consumes again; a consumer
        the broker cancels is restored the same way.
        """
        assert self._connection is not None, "connect() first"
        channel = await self._connection.channel()
        await channel.set_qos(prefetch_count=spec.prefetch)
        queue = await self._declare(channel, spec)
        handle = batch_handler(on_message)
        loop = asyncio.get_running_loop()
        pending: list[DeliveredMessage] = []
        timer: asyncio.TimerHandle | None = None
        running = 0
        window = _AckWindow()
        tag = f"aiflux.{spec.name}.{uuid.uuid4().hex[:8]}"

        def flush() -> None:
            nonlocal timer, pending, running
            if timer is not None:
                timer.cancel()
                timer = None
            if self._closing:
                pending = []  # left unacked: the broker delivers them again
                return
            while pending and running < self._batches_in_flight:
                batch, pending = pending[: spec.batch], pending[spec.batch :]
                running += 1
                task = asyncio.create_task(self._handle_batch(spec, batch, handle, window))
                self._in_flight.add(task)
                task.add_done_callback(done)

        def done(task: asyncio.Task[None]) -> None:
            nonlocal running
            self._in_flight.discard(task)
            running -= 1
            flush()  # what arrived meanwhile leaves at once, as one batch

        async def _on_delivery(message: DeliveredMessage) -> None:
            nonlocal timer
            pending.append(message)
            window.delivered(message)
            if running >= self._batches_in_flight:
                return  # gathering: the next batch leaves when one in flight is done
            if len(pending) >= spec.batch:
                flush()
            elif timer is None:
                timer = loop.call_later(self._linger, flush)

        async def _consume(*_: Any) -> None:
            if self._closing:
                return
            underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
            if tag in underlay.consumers:
                return
            underlay.on_consumer_cancel_callbacks.add(_cancelled)
            await underlay.basic_consume(spec.name, _on_delivery, consumer_tag=tag)

        def _cancelled(frame: aiormq.spec.Basic.Cancel) -> None:
            # Called from the channel's frame reader: the RPCs that restore the consumer must
            # run in a task of their own, or they would wait for replies this reader reads.
            if frame.consumer_tag == tag and not self._closing:
                log.warning("consumer cancelled by the broker, consuming again", extra={"queue": spec.name})
                task = asyncio.create_task(_consume_again())
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)

        async def _consume_again() -> None:
            while not self._closing:
                try:
                    underlay = cast(aiormq.Channel, await channel.get_underlay_channel())
                    underlay.consumers.pop(tag, None)
                    await cast(AbstractRobustQueue, queue).restore()  # declared and bound again
                    await _consume()
                    return
                except Exception as exc:
                    log.warning(
                        "consuming again failed", extra={"queue": spec.name, "error": type(exc).__name__}
                    )
                    await asyncio.sleep(self._reconnect_interval)

        channel.reopen_callbacks.add(_consume)
        await _consume()
        self._consumers.append((channel, tag))

    async def broadcast(self, routing_keys: tuple[str, ...], on_message: OnMessage) -> None:
        """An exclusive, auto-delete, non-durable queue of this connection, bound to the keys:
        every process gets its own copy; the queue goes away with the connection (and is
        declared again, with its bindings, when the robust connection comes back)."""
        assert self._connection is not None, "connect() first"
        channel = await self._connection.channel()
        queue = await channel.declare_queue(
            f"broadcast.{uuid.uuid4().hex}", exclusive=True, auto_delete=True, durable=False
        )
        for key in routing_keys:
            await queue.bind(self._exchange_name, key)

        async def _on_delivery(message: AbstractIncomingMessage) -> None:
            await deliver_broadcast(
                on_message,
                Delivery(
                    body=message.body,
                    routing_key=message.routing_key or "",
                    message_id=message.message_id,
                    attempt=1,
                    headers=dict(message.headers or {}),
                ),
            )

        await queue.consume(_on_delivery, no_ack=True, exclusive=True)

    async def _handle_batch(
        self,
        spec: QueueSpec,
        messages: list[DeliveredMessage],
        handle: OnBatch,
        window: _AckWindow,
    ) -> None:
        deliveries = [self._delivery(message) for message in messages]
        try:
            results = await handle(deliveries)
        except Exception as exc:  # the batch handler answers per message; this is a bug
            log.exception("batch handler failed", extra={"queue": spec.name})
            results = [exc] * len(deliveries)
        if all(error is None for error in results):
            await window.succeeded(messages)  # acked with a single frame, maybe with others
            return
        try:
            for message, delivery, error in zip(messages, deliveries, results, strict=True):
                try:
                    await self._settle(spec, message, delivery, error)
                except (aiormq.exceptions.AMQPError, aiormq.exceptions.ChannelInvalidStateError) as exc:
                    # the channel is gone: the broker delivers the message again
                    log.warning("settle failed", extra={"queue": spec.name, "error": type(exc).__name__})
        finally:
            await window.settled(messages)

    @staticmethod
    def _delivery(message: DeliveredMessage) -> Delivery:
        properties = message.header.properties
        headers = dict(properties.headers or {})
        return Delivery(
            body=message.body,
            routing_key=str(headers.get("x-aiflux-routing-key") or message.routing_key or ""),
            message_id=properties.message_id,
            attempt=int(str(headers.get(ATTEMPT_HEADER, 1))),
            headers=headers,
        )

    async def _settle(
        self,
        spec: QueueSpec,
        message: DeliveredMessage,
        delivery: Delivery,
        error: Exception | None,
    ) -> None:
        attempt = delivery.attempt
        if error is None:
            await message.channel.basic_ack(message.delivery_tag or 0)
        elif isinstance(error, Poison):
            await self._reroute(spec.parking, message, delivery, attempt, describe_failure(error))
        else:
            delay = next_step(spec, attempt)
            target = spec.parking if delay is None else f"{spec.name}.retry.{attempt - 1}"
            log.warning(
                "handler failed",
                extra={"queue": spec.name, "attempt": attempt, "error": type(error).__name__},
            )
            await self._reroute(target, message, delivery, attempt + 1, describe_failure(error))

    async def _reroute(
        self,
        queue: str,
        message: DeliveredMessage,
        delivery: Delivery,
        attempt: int,
        error: str,
    ) -> None:
        # The copy must be confirmed before the original is acked; if it is not, requeue.
        headers = {
            **delivery.headers,
            ATTEMPT_HEADER: attempt,
            ERROR_HEADER: error,
            "x-aiflux-routing-key": delivery.routing_key,
        }
        assert self._publish_channel is not None
        try:
            await self._confirmed(
                self._publish_channel.default_exchange,
                queue,
                self._message(delivery.body, delivery.message_id, headers),
            )
        except PublishFailed:
            with contextlib.suppress(Exception):
                await message.channel.basic_nack(message.delivery_tag or 0, requeue=True)
            return
        await message.channel.basic_ack(message.delivery_tag or 0)

    async def replay_parked(self, spec: QueueSpec, limit: int | None = None) -> int:
        """Move parked messages of ``spec`` back to its queue with a fresh retry budget."""
        assert self._connection is not None and self._publish_channel is not None
        channel = await self._connection.channel()
        parking = await channel.declare_queue(
            spec.parking, durable=True, arguments={"x-queue-type": "quorum"}
        )
        moved = 0
        try:
            while limit is None or moved < limit:
                message = await parking.get(no_ack=False, fail=False)
                if message is None:
                    break
                headers = {**dict(message.headers or {}), ATTEMPT_HEADER: 1, "x-aiflux-replayed": 1}
                await self._confirmed(
                    self._publish_channel.default_exchange,
                    spec.name,
                    self._message(message.body, message.message_id, headers),
                )
                await message.ack()
                moved += 1
        finally:
            await channel.close()
        return moved

    async def list_parked(self, spec: QueueSpec, limit: int = 100) -> list[ParkedMessage]:
        """Peek at parked messages (fetched and requeued, so nothing is lost)."""
        assert self._connection is not None
        channel = await self._connection.channel()
        parking = await channel.declare_queue(
            spec.parking, durable=True, arguments={"x-queue-type": "quorum"}
        )
        seen: list[ParkedMessage] = []
        try:
            for _ in range(limit):
                message = await parking.get(no_ack=False, fail=False)
                if message is None:
                    break
                headers = dict(message.headers or {})
                seen.append(
                    ParkedMessage(
                        message.message_id,
                        str(headers.get("x-aiflux-routing-key", "")),
                        str(headers.get(ERROR_HEADER, "")) or None,
                        message.timestamp,
                    )
                )
        finally:
            await channel.close()  # unacked messages return to the parking queue
        return seen

    async def parked_count(self, spec: QueueSpec) -> int:
        """Messages waiting in the parking queue of ``spec``."""
        assert self._connection is not None
        channel = await self._connection.channel()
        try:
            queue = await channel.declare_queue(
                spec.parking, durable=True, arguments={"x-queue-type": "quorum"}
            )
            return int(queue.declaration_result.message_count or 0)
        finally:
            await channel.close()

    async def queue_stats(self, spec: QueueSpec) -> QueueStats:
        """Ready messages of ``spec``'s queue (a passive declare: a process that does not consume
        it must not create it with other arguments) and of its parking queue."""
        assert self._connection is not None
        channel = await self._connection.channel()
        try:
            queue = await channel.declare_queue(spec.name, passive=True)
            parking = await channel.declare_queue(spec.parking, passive=True)
            return QueueStats(
                int(queue.declaration_result.message_count or 0),
                int(parking.declaration_result.message_count or 0),
            )
        finally:
            with contextlib.suppress(Exception):
                await channel.close()

    async def close(self, drain_timeout: float = 30.0) -> None:
        """Cancel consumers, wait for in-flight handlers, then close the connection."""
        self._closing = True
        # Without a connection there is nothing to cancel (and the robust channel would wait
        # for the broker to come back): the consumers went with the connection.
        for channel, tag in self._consumers if _up(self._connection) else ():
            with contextlib.suppress(Exception):
                underlay = cast(aiormq.Channel, await asyncio.wait_for(channel.get_underlay_channel(), 5))
                await underlay.basic_cancel(tag, timeout=5)
        if self._in_flight:
            await asyncio.wait(set(self._in_flight), timeout=drain_timeout)
        self._consumers.clear()
        for connection in (self._connection, self._publish_connection):
            if connection is not None:
                with contextlib.suppress(Exception):
                    await connection.close()


def _up(connection: AbstractRobustConnection | None) -> bool:
    """True while ``connection`` is open (not waiting to reconnect)."""
    return connection is not None and not connection.is_closed and bool(connection.connected.is_set())


class _AckWindow:
    """The deliveries of one consumer not yet settled, and the handled ones waiting to be acked.

    Batches run concurrently, so a later batch may finish first. Its messages wait until every
    older delivery is settled; then one ``basic.ack`` with ``multiple`` settles all handled
    messages below the oldest unsettled delivery (a frame per batch, not per message; never a
    message still being retried or parked). Delivery tags are per channel: when deliveries come
    on a new channel (after a reconnect) the old channel's state is dropped (the broker delivers
    its unacked messages again).
    """

    def __init__(self) -> None:
        self._channel: aiormq.abc.AbstractChannel | None = None
        self._unsettled: set[int] = set()
        self._handled: set[int] = set()

    def delivered(self, message: DeliveredMessage) -> None:
        if message.channel is not self._channel:
            self._channel, self._unsettled, self._handled = message.channel, set(), set()
        self._unsettled.add(message.delivery_tag or 0)

    async def succeeded(self, messages: Sequence[DeliveredMessage]) -> None:
        for message in messages:
            tag = message.delivery_tag or 0
            if message.channel is self._channel and tag in self._unsettled:  # else a gone channel's
                self._unsettled.discard(tag)
                self._handled.add(tag)
        await self._ack()

    async def settled(self, messages: Sequence[DeliveredMessage]) -> None:
        if messages and messages[0].channel is self._channel:
            self._unsettled.difference_update(message.delivery_tag or 0 for message in messages)
        await self._ack()

    async def _ack(self) -> None:
        oldest = min(self._unsettled, default=None)
        ready = [tag for tag in self._handled if oldest is None or tag < oldest]
        if not ready or self._channel is None:
            return
        self._handled.difference_update(ready)
        # Frames leave in call order, so a smaller multiple-ack never follows a larger one.
        try:
            await self._channel.basic_ack(max(ready), multiple=True)
        except Exception as exc:  # the channel is gone: the broker delivers them again
            log.warning("ack failed", extra={"messages": len(ready), "error": type(exc).__name__})


async def _send_batch(
    channel: aiormq.Channel, exchange: str, messages: Sequence[Outgoing]
) -> tuple[list[asyncio.Future[Any]], Callable[[], None]]:
    """Put ``messages`` in flight on ``channel`` with one write; return a confirmation future
    per message and what to call once they are awaited (forgets the batch's message ids).

    This is what aiormq's ``Channel.basic_publish`` does for one message (a delivery tag, a
    confirmation future, the message id that matches a ``basic.return`` to its tag), done for
    the whole batch under one hold of the channel lock, with one frame write: no task, lock,
    timeout and queue hand-off per message. Relies on aiormq's channel internals (pinned in
    uv.lock; the bus contract and resilience tests publish through here).
    """
    frames: list[Any] = []
    futures: list[asyncio.Future[Any]] = []
    async with channel.lock:
        first = channel.delivery_tag
        for message in messages:
            frames.append(
                spec.Basic.Publish(exchange=exchange, routing_key=message.routing_key, mandatory=True)
            )
            frames.append(
                ContentHeader(
                    properties=_properties(message.message_id, message.headers), body_size=len(message.body)
                )
            )
            frames.extend(channel._split_body(message.body))  # as basic_publish does
        payload = ChannelFrame.marshall(frames=frames, channel_number=channel.number)
        loop = asyncio.get_running_loop()
        for tag, message in enumerate(messages, start=first + 1):
            confirmation = loop.create_future()
            channel.confirmations[tag] = confirmation
            channel.message_id_delivery_tag[message.message_id] = tag
            futures.append(confirmation)
        channel.delivery_tag = first + len(messages)
        # One future in the channel's store stands for the batch: when the channel or its
        # connection closes, aiormq rejects it, and with it every confirmation still pending.
        closed = channel.create_future()
        closed.add_done_callback(functools.partial(_reject_pending, futures))
        try:
            await channel.write_queue.put(payload)
        except BaseException:
            # Not sent: the broker has not seen these tags; give them back.
            channel.delivery_tag = first
            for tag in range(first + 1, first + len(messages) + 1):
                channel.confirmations.pop(tag, None)
            for confirmation in futures:
                confirmation.cancel()
            _forget_batch(channel, messages, first)
            closed.cancel()
            raise

    def release() -> None:
        _forget_batch(channel, messages, first)
        closed.cancel()

    return futures, release


def _reject_pending(futures: list[asyncio.Future[Any]], closed: asyncio.Future[Any]) -> None:
    if closed.cancelled():
        return  # every confirmation arrived
    reason = closed.exception() or aiormq.exceptions.ChannelInvalidStateError("channel closed")
    for confirmation in futures:
        if not confirmation.done():
            confirmation.set_exception(reason)


def _forget_batch(channel: aiormq.Channel, messages: Sequence[Outgoing], first: int) -> None:
    """Drop the message ids of a settled batch (kept until then to match a basic.return)."""
    for tag, message in enumerate(messages, start=first + 1):
        if channel.message_id_delivery_tag.get(message.message_id) == tag:
            del channel.message_id_delivery_tag[message.message_id]


def _properties(message_id: str | None, headers: dict[str, Any]) -> aiormq.spec.Basic.Properties:
    """The AMQP properties :meth:`RabbitBroker._message` gives a message, built directly."""
    return aiormq.spec.Basic.Properties(
        message_id=message_id,
        headers=headers,
        content_type="application/json",
        delivery_mode=int(aio_pika.DeliveryMode.PERSISTENT),
    )


def _publish_error(exc: BaseException, routing_key: str) -> PublishFailed:
    """Why a publish failed, as the bus contract names it."""
    if isinstance(exc, aiormq.exceptions.PublishError):  # basic.return: no queue bound
        return Unroutable(f"unroutable: {routing_key}")
    if isinstance(exc, aiormq.exceptions.DeliveryError):  # nack
        return PublishFailed(f"rejected by the broker: {routing_key}")
    return PublishFailed(f"broker unavailable: {type(exc).__name__}")


def _unconfirmed(result: object) -> PublishFailed | None:
    if isinstance(result, aiormq.spec.Basic.Ack):
        return None
    return PublishFailed(f"not confirmed: {type(result).__name__}")
