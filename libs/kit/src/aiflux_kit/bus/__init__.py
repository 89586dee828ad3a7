"""Event buses: RabbitMQ for distributed runs, a PostgreSQL-backed in-process bus for embedded.

Both honour one contract, proved by one shared test suite:

- ``publish`` returns only once the bus has taken responsibility for the message (publisher
  confirm); a message no queue is bound for raises :class:`PublishFailed` (unroutable).
  ``publish_many`` does the same for a batch, all in flight together, and reports per message.
- a subscription's handler gets its messages in batches (up to ``QueueSpec.batch_size``, never
  more than the prefetch); a handler with a ``handle_batch`` method (the kit's Dispatcher) takes a
  whole batch at once and answers per message, a plain handler is called once per message. Each
  message of a batch is acked, retried or parked on its own.
- every subscription has its own durable queue; a handler that raises is retried with growing
  delays, then the message is parked; a :class:`Poison` message is parked at once.
- a consumer that dies mid-message leaves it to be delivered again.
- ``replay_parked`` moves parked messages back to their queue.
- ``broadcast`` gives this process its own copy of matching messages (every process gets one;
  not durable, no retries; what arrives while it is disconnected is missed): for caches that
  every replica must clear, such as sessions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

_log = logging.getLogger(__name__)

EXCHANGE = "aiflux.events"
ATTEMPT_HEADER = "x-aiflux-attempt"
ERROR_HEADER = "x-aiflux-last-error"


class PublishFailed(Exception):
    """The bus did not confirm the message (down, nacked, unroutable or timed out)."""


class Unroutable(PublishFailed):
    """No queue is bound for the routing key: the bus returned the message."""


class Poison(Exception):
    """A message that can never be handled (malformed, unknown type): parked without retries."""


@dataclass(frozen=True)
class QueueSpec:
    """A durable subscription queue bound to some routing keys."""

    name: str
    routing_keys: tuple[str, ...]
    prefetch: int = 300
    retry_delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000, 300_000)
    batch_size: int = 100

    @property
    def batch(self) -> int:
        """How many messages one handler call takes at most (never more than the prefetch)."""
        return max(1, min(self.batch_size, self.prefetch))

    @property
    def parking(self) -> str:
        """Where messages go after their last retry."""
        return f"{self.name}.parking"


@dataclass(frozen=True)
class Delivery:
    """One message handed to a consumer."""

    body: bytes
    routing_key: str
    message_id: str | None
    attempt: int
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outgoing:
    """One message to publish (:meth:`Broker.publish_many`)."""

    routing_key: str
    body: bytes
    message_id: str
    headers: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ParkedMessage:
    """A message waiting in a parking queue, as ops see it."""

    message_id: str | None
    routing_key: str
    last_error: str | None
    parked_at: datetime | None


@dataclass(frozen=True)
class QueueStats:
    """How many messages wait in a subscription's queue and in its parking queue (metrics)."""

    ready: int
    parked: int


OnMessage = Callable[[Delivery], Awaitable[None]]
OnBatch = Callable[[Sequence[Delivery]], Awaitable[list[Exception | None]]]
"""Handles a batch; answers per delivery: None (done: ack) or the exception (retry or park)."""


class Broker(Protocol):
    """The bus contract both implementations honour."""

    async def connect(self) -> None:
        """Connect and declare the exchange."""

    async def close(self, drain_timeout: float = 30.0) -> None:
        """Stop taking messages, let in-flight ones finish (up to the timeout), disconnect."""

    async def publish(
        self, routing_key: str, body: bytes, *, message_id: str, headers: dict[str, Any]
    ) -> None:
        """Publish and wait for the confirm; raise :class:`PublishFailed` otherwise."""

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[PublishFailed | None]:
        """Publish all, waiting for their confirms together; per message None (confirmed) or why
        it was not (:class:`Unroutable` when no queue is bound for it)."""

    async def consume(self, spec: QueueSpec, on_message: OnMessage) -> None:
        """Declare ``spec``'s queues and start handing its messages to ``on_message``."""

    async def broadcast(self, routing_keys: tuple[str, ...], on_message: OnMessage) -> None:
        """Hand this process a copy of every message with these keys, from now on.

        A handler that raises loses that message (logged): broadcasts keep caches fresh, and
        a cache's TTL bounds what a missed message costs.
        """

    async def replay_parked(self, spec: QueueSpec, limit: int | None = None) -> int:
        """Move up to ``limit`` parked messages of ``spec`` back to its queue; return how many."""

    async def list_parked(self, spec: QueueSpec, limit: int = 100) -> list[ParkedMessage]:
        """Parked messages of ``spec``, oldest first (for ops)."""

    async def parked_count(self, spec: QueueSpec) -> int:
        """How many messages wait in ``spec``'s parking queue."""

    async def queue_stats(self, spec: QueueSpec) -> QueueStats:
        """Messages waiting in ``spec``'s queue (not yet taken) and in its parking queue."""

    @property
    def connected(self) -> bool:
        """True while the bus is reachable."""

    @property
    def consumers_attached(self) -> int:
        """How many subscriptions are consuming right now."""


def batch_handler(on_message: OnMessage) -> OnBatch:
    """``on_message`` as a batch handler: its own ``handle_batch`` when it has one (the kit's
    Dispatcher: one transaction per batch), else one call per delivery, run concurrently."""
    handle_batch = getattr(on_message, "handle_batch", None)
    if handle_batch is not None:
        return handle_batch  # type: ignore[no-any-return]

    async def one(delivery: Delivery) -> Exception | None:
        try:
            await on_message(delivery)
        except Exception as exc:
            return exc
        return None

    async def each(deliveries: Sequence[Delivery]) -> list[Exception | None]:
        if len(deliveries) == 1:
            return [await one(deliveries[0])]
        return list(await asyncio.gather(*(one(d) for d in deliveries)))

    return each


async def deliver_broadcast(on_message: OnMessage, delivery: Delivery) -> None:
    """Run a broadcast handler; a failure is logged (by type only) and the message dropped."""
    try:
        await on_message(delivery)
    except Exception as exc:
        _log.warning(
            "broadcast handler failed",
            extra={"routing_key": delivery.routing_key, "error": describe_failure(exc)},
        )


def describe_failure(exc: BaseException) -> str:
    """What a failed delivery records for ops: the exception type, never its message (driver and
    client errors quote their input, e.g. an email address or a prompt)."""
    if isinstance(exc, Poison):
        return f"poison: {exc}"  # our own wording: names the routing key and the error type
    return f"{type(exc).__module__}.{type(exc).__qualname__}"


def next_step(spec: QueueSpec, attempt: int) -> int | None:
    """The retry delay (ms) after failed ``attempt`` (1-based), or None when it is time to park."""
    if attempt <= len(spec.retry_delays_ms):
        return spec.retry_delays_ms[attempt - 1]
    return None


def topic_matches(pattern: str, routing_key: str) -> bool:
    """AMQP topic matching: ``*`` is exactly one word, ``#`` zero or more."""

    def match(p: list[str], k: list[str]) -> bool:
        if not p:
            return not k
        if p[0] == "#":
            return any(match(p[1:], k[i:]) for i in range(len(k) + 1))
        return bool(k) and (p[0] in ("*", k[0])) and match(p[1:], k[1:])

    return match(pattern.split("."), routing_key.split("."))
