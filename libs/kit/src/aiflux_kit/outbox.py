"""The transactional outbox: events are written in the state change's own transaction, and a
relay publishes them with publisher confirms.

The relay claims a batch with ``FOR UPDATE SKIP LOCKED`` (so several relays share the work),
wakes on ``NOTIFY`` with a polling fallback, and marks a row sent only after the bus confirmed
it. A row the bus refused (down, unroutable) waits with a growing delay and is tried again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from datetime import timedelta
from typing import Any

import psycopg
from aiflux_contracts import Envelope, Event, UnknownEvent, event_class
from opentelemetry.trace import SpanKind
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from .bus import Broker, PublishFailed, Unroutable
from .db import Database, psycopg_conninfo
from .telemetry import correlation_id, extract_trace, inject_trace, tracer

log = logging.getLogger(__name__)

NOTIFY_CHANNEL = "aiflux_outbox"
MAX_BACKOFF_S = 30.0


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
    await session.execute(
        text(
            "INSERT INTO outbox (event_id, routing_key, body, headers)"
            " VALUES (:event_id, :routing_key, :body, CAST(:headers AS jsonb))"
        ),
        {
            "event_id": envelope.event_id,
            "routing_key": envelope.routing_key,
            "body": envelope.model_dump_json(),
            "headers": json.dumps(trace_headers),
        },
    )
    await session.execute(text("SELECT pg_notify(:channel, '')"), {"channel": NOTIFY_CHANNEL})
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
    ) -> None:
        self._db = database
        self._broker = broker
        self._batch_size = batch_size
        self._poll_interval = poll_interval
        self._wake = asyncio.Event()
        self.running = False

    async def relay_batch(self) -> int:
        """Publish one batch of due rows; return how many rows were claimed."""
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
            if not rows:
                return 0
            results = await asyncio.gather(*(self._publish(row) for row in rows))
            sent = [row.id for row, error in zip(rows, results, strict=True) if error is None]
            if sent:
                await session.execute(
                    text("UPDATE outbox SET sent_at = now() WHERE id = ANY(:ids)"), {"ids": sent}
                )
            for row, error in zip(rows, results, strict=True):
                if error is not None:
                    await self._postpone(session, row, error)
            return len(rows)

    async def _publish(self, row: Any) -> str | None:
        headers = dict(row.headers or {})
        with tracer("aiflux.outbox").start_as_current_span(
            f"publish {row.routing_key}",
            kind=SpanKind.PRODUCER,
            context=_parent(headers),
        ):
            try:
                await self._broker.publish(
                    row.routing_key, row.body.encode(), message_id=str(row.event_id), headers=headers
                )
            except Unroutable as exc:
                if _informational(row.routing_key):
                    return None  # announced; nobody subscribes to it (yet)
                return str(exc)
            except PublishFailed as exc:
                return str(exc)
        return None

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
        self.running = True
        try:
            while not stop.is_set():
                try:
                    claimed = await self.relay_batch()
                except Exception:
                    log.exception("outbox relay batch failed")
                    claimed = 0
                if claimed < self._batch_size:
                    self._wake.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self._poll_interval)
        finally:
            self.running = False
            listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await listener

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


def _informational(routing_key: str) -> bool:
    try:
        return event_class(routing_key).informational
    except UnknownEvent:
        return False


def _parent(headers: dict[str, Any]) -> Any:
    return extract_trace(headers) if headers.get("traceparent") else None
