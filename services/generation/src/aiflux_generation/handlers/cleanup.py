"""Provider cleanups: one strategy per provider, retried with growing delays through long
outages, parked for ops after too many attempts, a receipt per cleanup; and the erasure
receipt, published once every cleanup of the erased user is done."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiflux_contracts import ProviderCleanupCompleted, ProviderCleanupRequested
from aiflux_contracts.receipts import ErasureCompleted
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import retained_by_erasure
from aiflux_kit.outbox import add_event

from ..adapters.orm import generation_erasure, provider_cleanup
from ..adapters.providers.base import ProviderError
from ..domain.jobs import retry_delay

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

log = logging.getLogger(__name__)


async def on_cleanup_requested(ctx: HandlerContext, event: ProviderCleanupRequested) -> None:
    """Record the cleanup (idempotent by cleanup id); the cleanup worker carries it out."""
    await ctx.session.execute(sa.text(
        "INSERT INTO provider_cleanup (cleanup_id, generation_id, user_id, provider,"
        " provider_job_id, provider_file_ids) VALUES (:c, :g, :u, :p, :j, CAST(:f AS jsonb))"
        " ON CONFLICT DO NOTHING"),
        {"c": event.cleanup_id, "g": event.generation_id, "u": event.user_id,
         "p": event.provider, "j": event.provider_job_id,
         "f": _json_list(event.provider_file_ids)})


def _json_list(items: list[str]) -> str:
    return json.dumps(items)


async def on_cleanup_completed(c: GenerationContainer, ctx: HandlerContext,
                               event: ProviderCleanupCompleted) -> None:
    """A cleanup receipt: close the erasure waiting for it if it was the last one."""
    rows = (await ctx.session.execute(
        sa.select(generation_erasure)
        .where(generation_erasure.c.completed_at.is_(None),
               generation_erasure.c.cleanup_ids.contains([str(event.cleanup_id)]))
        .with_for_update())).all()
    for row in rows:
        if await cleanups_done(ctx.session, row.cleanup_ids):
            await complete_erasure(ctx.session, row, c.settings.outbox_keep_days)


class CleanupWorker:
    """Carries out due cleanups and closes erasures whose cleanups are all done."""

    def __init__(self, container: GenerationContainer) -> None:
        self.c = container

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop``."""
        while not stop.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("cleanup worker pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.c.settings.worker_interval_s)

    async def tick(self) -> int:
        """Claim due cleanups (leased), run each; returns how many were claimed."""
        async with self.c.database.transaction() as session:
            due = (sa.select(provider_cleanup.c.cleanup_id)
                   .where(provider_cleanup.c.status == "pending",
                          provider_cleanup.c.next_attempt_at <= sa.func.now())
                   .order_by(provider_cleanup.c.next_attempt_at)
                   .limit(self.c.settings.worker_batch)
                   .with_for_update(skip_locked=True).scalar_subquery())
            rows = (await session.execute(
                sa.update(provider_cleanup).where(provider_cleanup.c.cleanup_id.in_(due))
                .values(next_attempt_at=sa.func.now()
                        + timedelta(seconds=self.c.settings.lease_s))
                .returning(provider_cleanup))).all()
        await asyncio.gather(*(self.attempt(row) for row in rows))
        return len(rows)

    async def attempt(self, row: Any) -> None:
        """Run the provider's strategy once; record the receipt or the next attempt."""
        adapter = self.c.providers.get(row.provider)
        try:
            if adapter is None:
                raise ProviderError(f"no adapter for {row.provider}")
            strategy = await self.c.breakers.call(
                row.provider, adapter.cleanup, row.provider_job_id,
                tuple(row.provider_file_ids))
        except ProviderError as exc:
            await self._retry_later(row, str(exc))
            return
        async with self.c.database.transaction() as session:
            await session.execute(
                sa.update(provider_cleanup)
                .where(provider_cleanup.c.cleanup_id == row.cleanup_id)
                .values(status="done", strategy=strategy, done_at=sa.func.now(),
                        last_error=None))
            await add_event(session, ProviderCleanupCompleted(
                cleanup_id=row.cleanup_id, provider=row.provider,
                generation_id=row.generation_id, strategy=strategy))

    async def _retry_later(self, row: Any, error: str) -> None:
        s = self.c.settings
        attempts = row.attempts + 1
        parked = attempts >= s.cleanup_max_attempts
        delay = retry_delay(row.attempts, s.cleanup_initial_s, s.cleanup_max_s)
        async with self.c.database.transaction() as session:
            await session.execute(
                sa.update(provider_cleanup)
                .where(provider_cleanup.c.cleanup_id == row.cleanup_id)
                .values(attempts=attempts, last_error=error[:300],
                        status="parked" if parked else "pending",
                        next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay)))
        if parked:
            log.warning("provider cleanup parked", extra={"cleanup_id": str(row.cleanup_id),
                                                          "provider": row.provider})


async def finish_erasures(c: GenerationContainer) -> int:
    """Publish the receipt of every erasure whose provider cleanups are all done."""
    published = 0
    async with c.database.transaction() as session:
        open_rows = (await session.execute(
            sa.select(generation_erasure).where(generation_erasure.c.completed_at.is_(None))
            .with_for_update(skip_locked=True))).all()
        for row in open_rows:
            if await cleanups_done(session, row.cleanup_ids):
                await complete_erasure(session, row, c.settings.outbox_keep_days)
                published += 1
    return published


async def cleanups_done(session: Any, cleanup_ids: list[str]) -> bool:
    """True when every listed provider cleanup is done."""
    if not cleanup_ids:
        return True
    done = (await session.execute(
        sa.select(sa.func.count()).select_from(provider_cleanup)
        .where(provider_cleanup.c.cleanup_id.in_([uuid.UUID(i) for i in cleanup_ids]),
               provider_cleanup.c.status == "done"))).scalar_one()
    return int(done) == len(cleanup_ids)


async def complete_erasure(session: Any, row: Any, outbox_keep_days: float) -> None:
    """Mark the erasure complete, forget the user id everywhere here, publish the receipt
    (which declares the erasure guard and the receipt itself, kept for the outbox retention)."""
    await session.execute(
        sa.update(generation_erasure).where(generation_erasure.c.request_id == row.request_id)
        .values(completed_at=sa.func.now(), user_id=None))
    await session.execute(
        sa.update(provider_cleanup).where(provider_cleanup.c.user_id == row.user_id,
                                          provider_cleanup.c.status == "done")
        .values(user_id=None))
    await add_event(session, ErasureCompleted["generation"](
        request_id=row.request_id, user_id=row.user_id,
        deleted={**row.deleted, "provider_cleanups": len(row.cleanup_ids)},
        retained=retained_by_erasure("generation", outbox_keep_days)))
