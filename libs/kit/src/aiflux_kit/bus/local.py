"""The in-process bus for the embedded mode and fast tests, with RabbitMQ's semantics.

Messages live in a PostgreSQL database (the embedded server's ``aiflux_bus``), so they survive a
crash exactly as they would in a durable queue: messages are claimed in batches (up to
``spec.batch``) with ``FOR UPDATE SKIP LOCKED`` for the length of their handler and deleted only
once handled, in one transaction per batch; a consumer that dies releases the rows and they are
delivered again. Each queue has ``workers_per_queue`` workers claiming batches side by side.
Idle workers sleep until woken: by the NOTIFY a publishing transaction sends for its queues, or
by one due-poller per bus that looks every ``poll_interval`` for queues with due messages (retries
whose delay ran out, a NOTIFY missed while the listener reconnected).
Retries wait in the same table (``available_at``), parked messages carry ``parked_at``. Bindings
are stored too, like RabbitMQ's durable bindings, so a message published before its consumer
starts is kept, not dropped.

Broadcasts use PostgreSQL's NOTIFY: every process listening gets its own copy when the
publishing transaction commits, and nothing is kept for a process that is not listening, like
RabbitMQ's exclusive auto-delete queues. ``bus_broadcast`` lists the keys anyone listens to.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from ..db import ensure_database, psycopg_conninfo
from . import (
    ERROR_HEADER,
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
    topic_matches,
)

log = logging.getLogger(__name__)

CHANNEL = "aiflux_bus"
BROADCAST_CHANNEL = "aiflux_bus_broadcast"
# NOTIFY payloads are limited to 8000 bytes; broadcast events (session ends) are far smaller.
BROADCAST_MAX_BYTES = 7900
# An idle worker also looks for itself after this many poll intervals (a safety net: the
# due-poller wakes it when its queue has due messages).
IDLE_WORKER_POLLS = 10

# The bus's own storage, declared idempotently like a broker declares its queues.
SCHEMA = """
CREATE TABLE IF NOT EXISTS bus_binding (
    queue text NOT NULL, pattern text NOT NULL, PRIMARY KEY (queue, pattern));
CREATE TABLE IF NOT EXISTS bus_message (
    id bigserial PRIMARY KEY,
    queue text NOT NULL,
    routing_key text NOT NULL,
    message_id text,
    body bytea NOT NULL,
    headers jsonb NOT NULL DEFAULT '{}'::jsonb,
    attempts integer NOT NULL DEFAULT 0,
    available_at timestamptz NOT NULL DEFAULT now(),
    parked_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX IF NOT EXISTS ix_bus_message_ready
    ON bus_message (queue, available_at, id) WHERE parked_at IS NULL;
CREATE TABLE IF NOT EXISTS bus_broadcast (pattern text PRIMARY KEY);
"""


class LocalBroker:
    """The bus on a PostgreSQL database, running inside this process."""

    def __init__(
        self,
        url: str,
        *,
        poll_interval: float = 1.0,
        workers_per_queue: int = 2,
        pool_size: int = 10,
    ) -> None:
        self._conninfo = psycopg_conninfo(url)
        self._url = url
        self._poll_interval = poll_interval
        self._workers_per_queue = workers_per_queue
        # Handlers hold a claimed row's connection for their whole run; publishing gets a pool
        # of its own so it never waits behind them.
        self._consume_pool = AsyncConnectionPool(
            self._conninfo, min_size=1, max_size=pool_size, open=False, kwargs={"row_factory": dict_row}
        )
        self._publish_pool = AsyncConnectionPool(self._conninfo, min_size=1, max_size=4, open=False)
        self._wake: dict[str, asyncio.Event] = {}
        self._workers: list[asyncio.Task[None]] = []
        self._listener: asyncio.Task[None] | None = None
        self._poller: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._in_flight = 0
        self._connected = False
        self._broadcasts: list[tuple[tuple[str, ...], OnMessage]] = []
        self._broadcast_tasks: set[asyncio.Task[None]] = set()

    async def connect(self) -> None:
        """Create the bus database and tables if needed, and listen for new messages."""
        await asyncio.to_thread(ensure_database, self._url)
        async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
            await conn.execute("SELECT pg_advisory_lock(hashtext('aiflux_bus_schema'))")
            await conn.execute(SCHEMA)
            await conn.execute("SELECT pg_advisory_unlock(hashtext('aiflux_bus_schema'))")
        await self._consume_pool.open()
        await self._publish_pool.open()
        self._listener = asyncio.create_task(self._listen())
        self._poller = asyncio.create_task(self._poll_due())
        self._connected = True

    @property
    def connected(self) -> bool:
        """True while the bus database is reachable."""
        return self._connected and not self._stopping.is_set()

    @property
    def consumers_attached(self) -> int:
        """Subscriptions consuming right now."""
        return len({w.get_name() for w in self._workers if not w.done()})

    async def _listen(self) -> None:
        while not self._stopping.is_set():
            try:
                async with await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True) as conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    await conn.execute(f"LISTEN {BROADCAST_CHANNEL}")
                    self._connected = True
                    async for note in conn.notifies():
                        if note.channel == BROADCAST_CHANNEL:
                            self._on_broadcast(note.payload)
                        elif note.payload in self._wake:
                            self._wake[note.payload].set()
            except (psycopg.Error, OSError):
                self._connected = False
                await asyncio.sleep(self._poll_interval)

    async def publish(
        self, routing_key: str, body: bytes, *, message_id: str, headers: dict[str, Any]
    ) -> None:
        """Store one copy per bound queue (and notify broadcast listeners) in one transaction;
        unroutable raises."""
        (error,) = await self.publish_many([Outgoing(routing_key, body, message_id, headers)])
        if error is not None:
            raise error

    async def publish_many(self, messages: Sequence[Outgoing]) -> list[PublishFailed | None]:
        """Store a copy of each message per bound queue, all in one transaction (one wakeup per
        queue); per message None, or :class:`Unroutable` when nobody is bound for it."""
        if not messages:
            return []
        results: list[PublishFailed | None] = []
        try:
            async with self._publish_pool.connection() as conn:
                bindings = await (await conn.execute("SELECT queue, pattern FROM bus_binding")).fetchall()
                patterns = [
                    p for (p,) in await (await conn.execute("SELECT pattern FROM bus_broadcast")).fetchall()
                ]
                rows: list[tuple[str, str, str, bytes, str]] = []
                for m in messages:
                    queues = sorted({q for q, p in bindings if topic_matches(p, m.routing_key)})
                    broadcast = await self._broadcast_to(conn, patterns, m)
                    if not queues and not broadcast:
                        results.append(Unroutable(f"unroutable: {m.routing_key}"))
                        continue
                    results.append(None)
                    headers = json.dumps(m.headers, default=str)
                    rows.extend((q, m.routing_key, m.message_id, m.body, headers) for q in queues)
                if rows:
                    async with conn.cursor() as cur:
                        await cur.executemany(
                            "INSERT INTO bus_message (queue, routing_key, message_id, body, headers)"
                            " VALUES (%s, %s, %s, %s, %s)",
                            rows,
                        )
                    for queue in sorted({row[0] for row in rows}):
                        await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, queue))
        except (psycopg.Error, TimeoutError) as exc:
            failed = PublishFailed(f"bus unavailable: {type(exc).__name__}")
            return [failed for _ in messages]
        return results

    @staticmethod
    async def _broadcast_to(
        conn: psycopg.AsyncConnection[Any], patterns: list[str], message: Outgoing
    ) -> bool:
        """NOTIFY the listening processes when someone listens to the message's key."""
        routing_key = message.routing_key
        if not any(topic_matches(p, routing_key) for p in patterns):
            return False
        try:
            payload = json.dumps(
                {"routing_key": routing_key, "message_id": message.message_id, "body": message.body.decode()}
            )
        except UnicodeDecodeError:
            payload = ""
        if not payload or len(payload.encode()) > BROADCAST_MAX_BYTES:
            log.warning(
                "message cannot be broadcast (not text, or too large)", extra={"routing_key": routing_key}
            )
            return False
        await conn.execute("SELECT pg_notify(%s, %s)", (BROADCAST_CHANNEL, payload))
        return True

    def _on_broadcast(self, payload: str) -> None:
        try:
            note = json.loads(payload)
            delivery = Delivery(note["body"].encode(), note["routing_key"], note["message_id"], attempt=1)
        except (ValueError, KeyError, TypeError, AttributeError):
            log.warning("undecodable broadcast skipped")
            return
        for keys, on_message in self._broadcasts:
            if any(topic_matches(k, delivery.routing_key) for k in keys):
                task = asyncio.create_task(deliver_broadcast(on_message, delivery))
                self._broadcast_tasks.add(task)
                task.add_done_callback(self._broadcast_tasks.discard)

    async def broadcast(self, routing_keys: tuple[str, ...], on_message: OnMessage) -> None:
        """Hand this process a copy of every message with these keys (through NOTIFY)."""
        async with await psycopg.AsyncConnection.connect(self._conninfo) as conn:
            for key in routing_keys:
                await conn.execute(
                    "INSERT INTO bus_broadcast (pattern) VALUES (%s) ON CONFLICT DO NOTHING", (key,)
                )
            await conn.commit()
        self._broadcasts.append((routing_keys, on_message))

    async def consume(self, spec: QueueSpec, on_message: OnMessage) -> None:
        """Bind ``spec``'s routing keys and start up to ``workers_per_queue`` workers (never
        more than the prefetch) claiming batches of its queue."""
        async with await psycopg.AsyncConnection.connect(self._conninfo) as conn:
            for key in spec.routing_keys:
                await conn.execute(
                    "INSERT INTO bus_binding (queue, pattern) VALUES (%s, %s) ON CONFLICT DO NOTHING",
                    (spec.name, key),
                )
            await conn.commit()
        self._wake.setdefault(spec.name, asyncio.Event())
        handle = batch_handler(on_message)
        for _ in range(min(spec.prefetch, self._workers_per_queue)):
            self._workers.append(asyncio.create_task(self._work(spec, handle), name=spec.name))

    async def _work(self, spec: QueueSpec, handle: OnBatch) -> None:
        """Claim batches while there are any; when the queue is empty, sleep until woken (a
        NOTIFY, or the due-poller for retries coming due and missed notifications)."""
        wake = self._wake[spec.name]
        while not self._stopping.is_set():
            # Cleared before the claim, not after: a NOTIFY arriving while this claim runs
            # keeps the event set, so the message it announces is not left for the next poll.
            wake.clear()
            try:
                handled = await self._take_batch(spec, handle)
            except (psycopg.Error, OSError, TimeoutError):
                handled = 0
            if not handled:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), self._poll_interval * IDLE_WORKER_POLLS)

    async def _poll_due(self) -> None:
        """Every ``poll_interval``, one query for the queues holding due messages (retries
        whose delay ran out, anything a missed NOTIFY announced), waking only their workers:
        one round trip per interval for the whole bus instead of a claim per idle worker."""
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._poll_interval)
            if self._stopping.is_set() or not self._wake:
                continue
            try:
                async with self._consume_pool.connection() as conn:
                    rows: list[Any] = await (
                        await conn.execute(
                            "SELECT DISTINCT queue FROM bus_message"
                            " WHERE parked_at IS NULL AND available_at <= now()"
                        )
                    ).fetchall()
            except (psycopg.Error, OSError, TimeoutError):
                continue
            for row in rows:
                wake = self._wake.get(row["queue"])
                if wake is not None:
                    wake.set()

    async def _take_batch(self, spec: QueueSpec, handle: OnBatch) -> int:
        """Claim up to ``spec.batch`` due messages, hand them over, settle each; one transaction
        (the claim's): handled rows are deleted, failed ones wait for a retry or are parked."""
        async with self._consume_pool.connection() as conn:
            rows = await (
                await conn.execute(
                    "SELECT id, routing_key, message_id, body, headers, attempts FROM bus_message"
                    " WHERE queue = %s AND parked_at IS NULL AND available_at <= now()"
                    " ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED",
                    (spec.name, spec.batch),
                )
            ).fetchall()
            if not rows or self._stopping.is_set():
                return 0
            self._in_flight += 1
            try:
                await self._deliver(conn, spec, rows, handle)
            finally:
                self._in_flight -= 1
            return len(rows)

    async def _deliver(
        self,
        conn: psycopg.AsyncConnection[Any],
        spec: QueueSpec,
        rows: list[Any],
        handle: OnBatch,
    ) -> None:
        deliveries = [
            Delivery(
                bytes(r["body"]), r["routing_key"], r["message_id"], r["attempts"] + 1, dict(r["headers"])
            )
            for r in rows
        ]
        try:
            results = await handle(deliveries)
        except Exception as exc:  # the batch handler answers per message; this is a bug
            log.exception("batch handler failed", extra={"queue": spec.name})
            results = [exc] * len(deliveries)
        done = [r["id"] for r, error in zip(rows, results, strict=True) if error is None]
        if done:
            await conn.execute("DELETE FROM bus_message WHERE id = ANY(%s)", (done,))
        for row, delivery, error in zip(rows, deliveries, results, strict=True):
            if error is None:
                continue
            attempt = delivery.attempt
            delay = None if isinstance(error, Poison) else next_step(spec, attempt)
            if delay is None:
                await self._park(conn, row["id"], attempt, describe_failure(error))
            else:
                await conn.execute(
                    "UPDATE bus_message SET attempts = %s, last_error = %s,"
                    " available_at = now() + make_interval(secs => %s) WHERE id = %s",
                    (attempt, describe_failure(error), delay / 1000, row["id"]),
                )

    @staticmethod
    async def _park(conn: psycopg.AsyncConnection[Any], row_id: int, attempt: int, error: str) -> None:
        await conn.execute(
            "UPDATE bus_message SET attempts = %s, last_error = %s, parked_at = now(),"
            " headers = headers || jsonb_build_object(%s::text, %s::text) WHERE id = %s",
            (attempt, error, ERROR_HEADER, error, row_id),
        )

    async def replay_parked(self, spec: QueueSpec, limit: int | None = None) -> int:
        """Return parked messages to the queue with a fresh retry budget."""
        async with await psycopg.AsyncConnection.connect(self._conninfo) as conn:
            cur = await conn.execute(
                "UPDATE bus_message SET parked_at = NULL, attempts = 0, available_at = now()"
                " WHERE id IN (SELECT id FROM bus_message WHERE queue = %s AND parked_at IS NOT"
                " NULL ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)",
                (spec.name, limit if limit is not None else 2**31 - 1),
            )
            await conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, spec.name))
            await conn.commit()
            return cur.rowcount

    async def list_parked(self, spec: QueueSpec, limit: int = 100) -> list[ParkedMessage]:
        """Parked messages of ``spec``, oldest first."""
        async with await psycopg.AsyncConnection.connect(self._conninfo) as conn:
            rows = await (
                await conn.execute(
                    "SELECT message_id, routing_key, last_error, parked_at FROM bus_message"
                    " WHERE queue = %s AND parked_at IS NOT NULL ORDER BY id LIMIT %s",
                    (spec.name, limit),
                )
            ).fetchall()
        return [ParkedMessage(*row) for row in rows]

    async def parked_count(self, spec: QueueSpec) -> int:
        """How many messages of ``spec`` are parked."""
        async with await psycopg.AsyncConnection.connect(self._conninfo) as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) FROM bus_message WHERE queue = %s AND parked_at IS NOT NULL",
                    (spec.name,),
                )
            ).fetchone()
        return int(row[0]) if row else 0

    async def queue_stats(self, spec: QueueSpec) -> QueueStats:
        """Waiting and parked messages of ``spec``, in one query."""
        async with await psycopg.AsyncConnection.connect(self._conninfo) as conn:
            row = await (
                await conn.execute(
                    "SELECT count(*) FILTER (WHERE parked_at IS NULL),"
                    " count(*) FILTER (WHERE parked_at IS NOT NULL)"
                    " FROM bus_message WHERE queue = %s",
                    (spec.name,),
                )
            ).fetchone()
        return QueueStats(int(row[0]), int(row[1])) if row else QueueStats(0, 0)

    async def close(self, drain_timeout: float = 30.0) -> None:
        """Stop claiming, let handlers in flight finish, stop listening."""
        self._stopping.set()
        for event in self._wake.values():
            event.set()
        if self._workers:
            _, pending = await asyncio.wait(self._workers, timeout=drain_timeout)
            for task in pending:
                task.cancel()
        for task in [t for t in (self._listener, self._poller) if t is not None]:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._consume_pool.close()
        await self._publish_pool.close()
        self._connected = False
