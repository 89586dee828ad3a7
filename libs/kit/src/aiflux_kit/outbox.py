"""The transactional outbox: events are written in the state change's own transaction, and a
relay publishes them with publisher confirms.

The relay claims a batch with ``FOR UPDATE SKIP LOCKED`` (so several relays share the work),
publishes it all at once and awaits the confirms together, wakes on ``NOTIFY`` (one per writing
transaction) with a polling fallback, and marks rows sent (one UPDATE) only after the bus
confirmed them. A row the bus refused (down, unroutable) waits with a growing delay and is tried
again. Producer spans are recorded only when traces are (an exporter is configured).

Batches are pipelined: while one batch awaits its confirms (and its UPDATE and commit), the next
is claimed (its rows are not locked by the first) and put in flight, up to ``pipeline`` batches
at once. Publishes still leave in claim order (each batch's publishes are queued on the channel
before the next claim starts); a crash between batches at worst publishes a confirmed batch
again, which the consumers' inbox absorbs.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
import weakref
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import psycopg
from aiflux_contracts import Envelope, Event, UnknownEvent, event_class
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .bus import Broker, Outgoing, PublishFailed, Unroutable
from .db import Database, psycopg_conninfo
from .telemetry import correlation_id, extract_trace, inject_trace, tracer
from .tracing_export import tracing_enabled

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "aiflux_outbox"
MAX_BACKOFF_S = 30.0
_NOTIFIED = "aiflux_outbox_notified"  # session.info: the transaction that sent the NOTIFY

_INSERT = (
    "INSERT INTO outbox (event_id, routing_key, body, headers)"
    " VALUES (:event_id, :routing_key, :body, CAST(:headers AS jsonb))"
)
# The first event of a transaction wakes the relays in the same round trip (delivered on commit).
_INSERT_AND_NOTIFY = (
    "WITH wake AS (SELECT pg_notify(:channel, ''))"
    " INSERT INTO outbox (event_id, routing_key, body, headers)"
    " SELECT :event_id, :routing_key, :body, CAST(:headers AS jsonb) FROM wake"
)


async def add_event(
    session: AsyncSession,
    event: Event,
    *,
    correlation: uuid.UUID | None = None,
    causation: uuid.UUID | None = None,
) -> Envelope:
    """Write ``event`` to the outbox inside ``session``'s transaction; return its envelope.

    The current trace context travels in the envelope, so the consumer's span joins the trace.
    """
    trace_headers = inject_trace()
    envelope = Envelope.wrap(
        event,
        correlation_id=correlation or correlation_id.get(),
        causation_id=causation,
        traceparent=trace_headers.get("traceparent"),
        tracestate=trace_headers.get("tracestate"),
    )
    values = {
        "event_id": envelope.event_id,
        "routing_key": envelope.routing_key,
        "body": envelope.model_dump_json(),
        "headers": json.dumps(trace_headers),
    }
    # One NOTIFY per transaction, not per event: the first event of it sends it.
    noted = session.info.get(_NOTIFIED)
    transaction = session.sync_session.get_transaction()
    if transaction is not None and noted is not None and noted() is transaction:
        await session.execute(text(_INSERT), values)
    else:
        await session.execute(text(_INSERT_AND_NOTIFY), {**values, "channel": NOTIFY_CHANNEL})
        session.info[_NOTIFIED] = weakref.ref(session.sync_session.get_transaction())
    return envelope


class OutboxRelay:
    """Publishes a service's outbox rows to the bus."""

    def __init__(
        self,
        database: Database,
        broker: Broker,
        *,
        batch_size: int = 100,
        poll_interval: float = 1.0,
        pipeline: int = 2,
    ) -> None:
        self._db = database
        self._broker = broker
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._pipeline = max(1, pipeline)
        self._wake = asyncio.Event()
        self.running = False

    async def relay_batch(self, claimed: asyncio.Future[int] | None = None) -> int:
        """Publish one batch of due rows; return how many rows were claimed.

        ``claimed`` (if given) learns the count as soon as the rows are claimed and their
        publishes are about to be queued, before the confirms are awaited.
        """
        async with self._db.transaction() as session:
            rows = (
                await session.execute(
                    text(
                        "SELECT id, event_id, routing_key, body, headers, attempts FROM outbox"
                        " WHERE sent_at IS NULL AND available_at <= now()"
                        " ORDER BY id LIMIT :n FOR UPDATE SKIP LOCKED"
                    ),
                    {"n": self._batch_size},
                )
            ).all()
            if claimed is not None and not claimed.done():
                claimed.set_result(len(rows))
            if not rows:
                return 0
            errors = await self._publish(rows)
            sent = [row.id for row, error in zip(rows, errors, strict=True) if error is None]
            if sent:
                await session.execute(
                    text("UPDATE outbox SET sent_at = now() WHERE id = ANY(:ids)"), {"ids": sent}
                )
            for row, error in zip(rows, errors, strict=True):
                if error is not None:
                    await self._postpone(session, row, error)
            return len(rows)

    async def _publish(self, rows: Sequence[Any]) -> list[str | None]:
        """Publish ``rows`` together; per row None (confirmed, or informational and unbound) or
        why not. With traces recorded, each row gets a producer span in its event's trace."""
        messages = [
            Outgoing(row.routing_key, row.body.encode(), str(row.event_id), dict(row.headers or {}))
            for row in rows
        ]
        if not tracing_enabled():
            results = await self._broker.publish_many(messages)
        else:
            spans = [
                tracer("aiflux.outbox").start_span(
                    f"publish {m.routing_key}", kind=SpanKind.PRODUCER, context=_parent(m.headers)
                )
                for m in messages
            ]

            async def publish_in(span: Any, message: Outgoing) -> PublishFailed | None:
                # The span is current while the broker publishes: its own instrumentation
                # (aio-pika's producer span) joins the event's trace.
                with trace.use_span(span, end_on_exit=True):
                    return (await self._broker.publish_many([message]))[0]

            results = list(await asyncio.gather(*map(publish_in, spans, messages)))
        return [_error(message, result) for message, result in zip(messages, results, strict=True)]

    @staticmethod
    async def _postpone(session: AsyncSession, row: Any, error: str) -> None:
        delay = min(MAX_BACKOFF_S, 0.5 * 2**row.attempts)
        await session.execute(
            text(
                "UPDATE outbox SET attempts = attempts + 1, last_error = :error,"
                " available_at = now() + :delay WHERE id = :id"
            ),
            {"error": error[:500], "delay": timedelta(seconds=delay), "id": row.id},
        )
        log.warning(
            "outbox publish postponed", extra={"event_id": str(row.event_id), "attempts": row.attempts + 1}
        )

    async def run(self, stop: asyncio.Event) -> None:
        """Relay until ``stop`` is set."""
        listener = asyncio.create_task(self._listen(stop))
        in_flight: set[asyncio.Task[int]] = set()
        self.running = True
        try:
            while not stop.is_set():
                # Cleared before the claim: a NOTIFY for a row committed while this batch is
                # relayed keeps the event set, so that row does not wait for the next poll.
                self._wake.clear()
                claimed = await self._start_batch(in_flight)
                if claimed < self._batch_size:
                    # Drained: let the batches in flight finish (their failed rows become due
                    # again later), then sleep until a NOTIFY or the poll interval.
                    if in_flight:
                        await asyncio.wait(in_flight)
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval)
                elif len(in_flight) >= self._pipeline:
                    await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.running = False
            if in_flight:
                await asyncio.wait(in_flight)
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

    async def _start_batch(self, in_flight: set[asyncio.Task[int]]) -> int:
        """Start one batch; return how many rows it claimed once they are claimed (the batch
        goes on publishing in ``in_flight``)."""
        claimed: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(self._guarded_batch(claimed))
        in_flight.add(task)
        task.add_done_callback(in_flight.discard)
        return await claimed

    async def _guarded_batch(self, claimed: asyncio.Future[int]) -> int:
        try:
            return await self.relay_batch(claimed)
        except Exception:
            log.exception("outbox relay batch failed")
            return 0
        finally:
            if not claimed.done():
                claimed.set_result(0)

    async def _listen(self, stop: asyncio.Event) -> None:
        conninfo = psycopg_conninfo(self._db.url)
        while not stop.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(conninfo, autocommit=True) as c:
                    await c.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    async for _ in c.notifies():
                        self._wake.set()
            except (psycopg.Error, OSError):
                await asyncio.sleep(self._poll_interval)

    async def forget_published(self, keep: timedelta) -> int:
        """Delete rows published longer than ``keep`` ago; return how many.

        Event bodies name users (ids): once the bus confirmed them they serve only debugging, so
        they must not outlive the retention the policy allows. Unsent rows are never touched.
        """
        async with self._db.transaction() as session:
            result = await session.execute(
                text("DELETE FROM outbox WHERE sent_at IS NOT NULL AND sent_at < now() - :keep"),
                {"keep": keep},
            )
        return int(getattr(result, "rowcount", 0) or 0)

    async def backlog(self) -> tuple[int, float]:
        """Unsent rows and the age in seconds of the oldest one (for ops and alerts)."""
        async with self._db.transaction() as session:
            row = (
                await session.execute(
                    text(
                        "SELECT count(*), coalesce(extract(epoch FROM now() - min(created_at)), 0)"
                        " FROM outbox WHERE sent_at IS NULL"
                    )
                )
            ).one()
        return int(row[0]), float(row[1])


def _error(message: Outgoing, result: PublishFailed | None) -> str | None:
    if result is None or (isinstance(result, Unroutable) and _informational(message.routing_key)):
        return None  # confirmed; or announced and nobody subscribes to it (yet)
    return str(result)


def _informational(routing_key: str) -> bool:
    try:
        return event_class(routing_key).informational
    except UnknownEvent:
        return False


def _parent(headers: dict[str, Any]) -> Any:
    return extract_trace(headers) if headers.get("traceparent") else None
