"""Idempotent consumers: decode an event, record it in the inbox and run the handler in the
same transaction, so a redelivered event never repeats its effect."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Generic, TypeVar

from aiflux_contracts import Envelope, Event, UnknownEvent, decode
from opentelemetry.trace import SpanKind
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .bus import Delivery, Poison, QueueSpec
from .db import Database
from .outbox import add_event
from .telemetry import correlation_id, extract_trace, tracer

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)


@dataclass
class HandlerContext:
    """What a handler gets besides its event: the inbox transaction and a way to publish."""

    session: AsyncSession
    envelope: Envelope

    async def publish(self, event: Event) -> Envelope:
        """Add ``event`` to the outbox in this transaction, caused by the handled event."""
        return await add_event(
            self.session,
            event,
            correlation=self.envelope.correlation_id or self.envelope.event_id,
            causation=self.envelope.event_id,
        )


Handler = Callable[[HandlerContext, Any], Awaitable[None]]


@dataclass(frozen=True)
class Subscription(Generic[E]):
    """A named consumer of some event types: one durable queue ``<service>.<name>``."""

    name: str
    events: tuple[type[Event], ...]
    handler: Handler
    prefetch: int = 16
    extra: dict[str, Any] = field(default_factory=dict)

    def queue(self, service: str, retry_delays_ms: tuple[int, ...]) -> QueueSpec:
        """The queue spec of this subscription for ``service``."""
        return QueueSpec(
            name=f"{service}.{self.name}",
            routing_keys=tuple(e.routing_key() for e in self.events),
            prefetch=self.prefetch,
            retry_delays_ms=retry_delays_ms,
        )


class Dispatcher:
    """Turns deliveries of one subscription into handler calls, exactly once per event."""

    def __init__(self, service: str, database: Database, subscription: Subscription[Any]):
        self.consumer = f"{service}.{subscription.name}"
        self._db = database
        self._subscription = subscription
        self._keys = {e.routing_key() for e in subscription.events}

    def _decode(self, delivery: Delivery) -> tuple[Envelope, Event]:
        try:
            envelope, event = decode(delivery.body)
        except (ValidationError, UnknownEvent, ValueError) as exc:
            raise Poison(f"undecodable {delivery.routing_key}: {type(exc).__name__}") from exc
        if envelope.routing_key not in self._keys:
            raise Poison(f"{envelope.routing_key} is not handled by {self.consumer}")
        return envelope, event

    async def __call__(self, delivery: Delivery) -> None:
        envelope, event = self._decode(delivery)
        parent = extract_trace({"traceparent": envelope.traceparent, "tracestate": envelope.tracestate})
        token = correlation_id.set(envelope.correlation_id or envelope.event_id)
        try:
            with tracer("aiflux.consumer").start_as_current_span(
                f"consume {envelope.routing_key}",
                kind=SpanKind.CONSUMER,
                context=parent,
                attributes={
                    "messaging.consumer": self.consumer,
                    "messaging.message.id": str(envelope.event_id),
                    "messaging.attempt": delivery.attempt,
                },
            ):
                await self._handle_once(envelope, event)
        finally:
            correlation_id.reset(token)

    async def _handle_once(self, envelope: Envelope, event: Event) -> None:
        async with self._db.transaction() as session:
            first = await record_in_inbox(session, self.consumer, envelope.event_id, envelope.routing_key)
            if not first:
                log.info(
                    "duplicate event skipped",
                    extra={"consumer": self.consumer, "event_id": str(envelope.event_id)},
                )
                return
            await self._subscription.handler(HandlerContext(session, envelope), event)


async def record_in_inbox(
    session: AsyncSession, consumer: str, event_id: uuid.UUID, routing_key: str
) -> bool:
    """Insert the inbox row; False when ``consumer`` has handled ``event_id`` already."""
    result = await session.execute(
        text(
            "INSERT INTO inbox (consumer, event_id, routing_key) VALUES (:c, :e, :r)"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"c": consumer, "e": event_id, "r": routing_key},
    )
    return result.first() is not None


async def forget_handled(database: Database, keep: timedelta) -> int:
    """Delete inbox rows older than ``keep`` (they hold event ids only, for deduplication)."""
    async with database.transaction() as session:
        result = await session.execute(
            text("DELETE FROM inbox WHERE handled_at < now() - :keep"), {"keep": keep}
        )
    return int(getattr(result, "rowcount", 0) or 0)
