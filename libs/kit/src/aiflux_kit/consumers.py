"""Idempotent consumers: decode an event, record it in the inbox and run the handler in the
same transaction, so a redelivered event never repeats its effect.

The bus hands the Dispatcher batches (:meth:`Dispatcher.handle_batch`): one transaction records
the whole batch in the inbox with one multi-row ``INSERT … ON CONFLICT DO NOTHING RETURNING``,
runs the handlers of the events it had not seen, in order, and commits once. When any handler
fails (or the commit does) the batch is rolled back and replayed one event per transaction, so
one bad event is retried or parked alone and the others take effect exactly once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
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
from .tracing_export import tracing_enabled

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
    """A named consumer of some event types: one durable queue ``<service>.<name>``.

    ``batch_size`` events share one transaction at most; 1 for handlers that must not share it
    (e.g. ones committing work of their own on other connections, or holding it for long).
    """

    name: str
    events: tuple[type[Event], ...]
    handler: Handler
    prefetch: int = 300
    extra: dict[str, Any] = field(default_factory=dict)
    batch_size: int = 100

    def queue(self, service: str, retry_delays_ms: tuple[int, ...]) -> QueueSpec:
        """The queue spec of this subscription for ``service``."""
        return QueueSpec(
            name=f"{service}.{self.name}",
            routing_keys=tuple(e.routing_key() for e in self.events),
            prefetch=self.prefetch,
            retry_delays_ms=retry_delays_ms,
            batch_size=self.batch_size,
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
        """Handle one delivery in a transaction of its own."""
        envelope, event = self._decode(delivery)
        await self._one(envelope, event, delivery.attempt)

    async def handle_batch(self, deliveries: Sequence[Delivery]) -> list[Exception | None]:
        """Handle a batch in one transaction; per delivery None (done) or its exception.

        Undecodable deliveries are :class:`Poison` at once; a delivery whose event id is already
        in the inbox (or earlier in the batch) is done without effect. If a handler or the
        commit fails, everything rolls back and each event runs again in its own transaction.
        """
        results: list[Exception | None] = [None] * len(deliveries)
        todo: list[tuple[int, Envelope, Event]] = []
        for i, delivery in enumerate(deliveries):
            try:
                envelope, event = self._decode(delivery)
            except Poison as exc:
                results[i] = exc
                continue
            todo.append((i, envelope, event))
        if len(todo) == 1:
            i, envelope, event = todo[0]
            results[i] = await self._guarded(envelope, event, deliveries[i].attempt)
        elif todo:
            try:
                await self._batch(todo, deliveries)
            except Exception as exc:
                log.warning(
                    "batch rolled back, replaying its events one by one",
                    extra={"consumer": self.consumer, "events": len(todo), "error": type(exc).__name__},
                )
                for i, envelope, event in todo:
                    results[i] = await self._guarded(envelope, event, deliveries[i].attempt)
        return results

    async def _batch(self, todo: list[tuple[int, Envelope, Event]], deliveries: Sequence[Delivery]) -> None:
        async with self._db.transaction() as session:
            new = await record_many_in_inbox(
                session, self.consumer, [(envelope.event_id, envelope.routing_key) for _, envelope, _ in todo]
            )
            traced = tracing_enabled()
            for i, envelope, event in todo:
                if envelope.event_id not in new:
                    self._skipped(envelope)
                    continue
                new.discard(envelope.event_id)  # a second copy in this batch is a duplicate
                await self._run(session, envelope, event, deliveries[i].attempt, traced)

    async def _guarded(self, envelope: Envelope, event: Event, attempt: int) -> Exception | None:
        try:
            await self._one(envelope, event, attempt)
        except Exception as exc:
            return exc
        return None

    async def _one(self, envelope: Envelope, event: Event, attempt: int) -> None:
        async with self._db.transaction() as session:
            first = await record_in_inbox(session, self.consumer, envelope.event_id, envelope.routing_key)
            if not first:
                self._skipped(envelope)
                return
            await self._run(session, envelope, event, attempt, tracing_enabled())

    async def _run(
        self, session: AsyncSession, envelope: Envelope, event: Event, attempt: int, traced: bool
    ) -> None:
        """The handler, with the event's correlation id (and its span when ``traced``)."""
        token = correlation_id.set(envelope.correlation_id or envelope.event_id)
        try:
            if not traced:
                await self._subscription.handler(HandlerContext(session, envelope), event)
                return
            parent = extract_trace({"traceparent": envelope.traceparent, "tracestate": envelope.tracestate})
            with tracer("aiflux.consumer").start_as_current_span(
                f"consume {envelope.routing_key}",
                kind=SpanKind.CONSUMER,
                context=parent,
                attributes={
                    "messaging.consumer": self.consumer,
                    "messaging.message.id": str(envelope.event_id),
                    "messaging.attempt": attempt,
                },
            ):
                await self._subscription.handler(HandlerContext(session, envelope), event)
        finally:
            correlation_id.reset(token)

    def _skipped(self, envelope: Envelope) -> None:
        log.info(
            "duplicate event skipped",
            extra={"consumer": self.consumer, "event_id": str(envelope.event_id)},
        )


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


async def record_many_in_inbox(
    session: AsyncSession, consumer: str, events: list[tuple[uuid.UUID, str]]
) -> set[uuid.UUID]:
    """Insert the inbox rows of ``events`` (event id, routing key) in one statement; return the
    ids ``consumer`` had not handled before."""
    result = await session.execute(
        text(
            "INSERT INTO inbox (consumer, event_id, routing_key)"
            " SELECT :c, e, r FROM unnest(CAST(:ids AS uuid[]), CAST(:keys AS text[])) AS t(e, r)"
            " ON CONFLICT DO NOTHING RETURNING event_id"
        ),
        {"c": consumer, "ids": [e for e, _ in events], "keys": [r for _, r in events]},
    )
    return {row[0] for row in result}


async def forget_handled(database: Database, keep: timedelta) -> int:
    """Delete inbox rows older than ``keep`` (they hold event ids only, for deduplication)."""
    async with database.transaction() as session:
        result = await session.execute(
            text("DELETE FROM inbox WHERE handled_at < now() - :keep"), {"keep": keep}
        )
    return int(getattr(result, "rowcount", 0) or 0)
