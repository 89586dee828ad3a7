"""Provider cleanups: one strategy per provider, retried with growing delays through long
outages, parked for ops after too many attempts, a receipt per cleanup; and the erasure
receipt, published once every cleanup of the erased user is done."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, cast

from aiflux_contracts import ProviderCleanupCompleted, ProviderCleanupRequested
from aiflux_contracts.receipts import ErasureCompleted, ErasureCompletedBase
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import MESSAGES_CATEGORY, receipt_messaging, retained_by_erasure
from aiflux_kit.outbox import add_event

from ..adapters import cleanups
from ..adapters.providers.base import ProviderError
from ..adapters.store import GenerationStore
from ..domain.jobs import retry_delay
from ..domain.records import ErasureRun, ProviderCleanup

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

log = logging.getLogger(__name__)
# The per-service receipt classes are built at run time; this one has the base's fields.
GenerationErasureCompleted = cast(type[ErasureCompletedBase], ErasureCompleted["generation"])


async def on_cleanup_requested(ctx: HandlerContext, event: ProviderCleanupRequested) -> None:
    """Record the cleanup (idempotent by cleanup id); the cleanup worker carries it out."""
    await cleanups.record_cleanup(
        ctx.session,
        cleanup_id=event.cleanup_id,
        generation_id=event.generation_id,
        user_id=event.user_id,
        provider=event.provider,
        provider_job_id=event.provider_job_id,
        provider_file_ids=list(event.provider_file_ids),
    )


async def on_cleanup_completed(
    c: GenerationContainer, ctx: HandlerContext, event: ProviderCleanupCompleted
) -> None:
    """A cleanup receipt: close the erasure waiting for it if it was the last one."""
    for run in await cleanups.open_erasures(ctx.session, waiting_for=event.cleanup_id):
        if await cleanups.all_done(ctx.session, run.cleanup_ids):
            await complete_erasure(c.stores.bound(ctx.session), run, c.settings.outbox_keep_days)


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
            due = await cleanups.claim_due(session, self.c.settings.worker_batch, self.c.settings.lease_s)
        await asyncio.gather(*(self.attempt(cleanup) for cleanup in due))
        return len(due)

    async def attempt(self, cleanup: ProviderCleanup) -> None:
        """Run the provider's strategy once; record the receipt or the next attempt."""
        adapter = self.c.providers.get(cleanup.provider)
        try:
            if adapter is None:
                raise ProviderError(f"no adapter for {cleanup.provider}")
            strategy: str = await self.c.breakers.call(
                cleanup.provider, adapter.cleanup, cleanup.provider_job_id, cleanup.provider_file_ids
            )
        except ProviderError as exc:
            await self._retry_later(cleanup, str(exc))
            return
        async with self.c.database.transaction() as session:
            await cleanups.mark_done(session, cleanup.cleanup_id, strategy)
            await add_event(
                session,
                ProviderCleanupCompleted(
                    cleanup_id=cleanup.cleanup_id,
                    provider=cleanup.provider,
                    generation_id=cleanup.generation_id,
                    strategy=strategy,
                ),
            )

    async def _retry_later(self, cleanup: ProviderCleanup, error: str) -> None:
        s = self.c.settings
        attempts = cleanup.attempts + 1
        parked = attempts >= s.cleanup_max_attempts
        delay = retry_delay(cleanup.attempts, s.cleanup_initial_s, s.cleanup_max_s)
        async with self.c.database.transaction() as session:
            await cleanups.schedule_retry(
                session,
                cleanup.cleanup_id,
                attempts=attempts,
                error=error,
                parked=parked,
                next_attempt_at=datetime.now(UTC) + timedelta(seconds=delay),
            )
        if parked:
            log.warning(
                "provider cleanup parked",
                extra={"cleanup_id": str(cleanup.cleanup_id), "provider": cleanup.provider},
            )


async def finish_erasures(c: GenerationContainer) -> int:
    """Publish the receipt of every erasure whose provider cleanups are all done."""
    published = 0
    async with c.database.transaction() as session:
        for run in await cleanups.open_erasures(session):
            if await cleanups.all_done(session, run.cleanup_ids):
                await complete_erasure(c.stores.bound(session), run, c.settings.outbox_keep_days)
                published += 1
    return published


async def complete_erasure(store: GenerationStore, run: ErasureRun, outbox_keep_days: float) -> None:
    """Mark the erasure complete, forget the user id everywhere here, publish the receipt
    (which declares the erasure guard and the receipt itself, kept for the outbox retention)."""
    if run.user_id is None:
        return  # already completed: its user id was forgotten with the receipt
    await store.close_erasure(run)
    # The verification, in this transaction: what remains now (the receipt carries it).
    remaining = receipt_messaging(await remaining_of_user(store, run.user_id))
    await store.add_event(
        GenerationErasureCompleted(
            request_id=run.request_id,
            user_id=run.user_id,
            deleted={**run.deleted, "provider_cleanups": len(run.cleanup_ids)},
            retained=retained_by_erasure(
                "generation", outbox_keep_days, messages=remaining[MESSAGES_CATEGORY]
            ),
            remaining=remaining,
        )
    )


async def remaining_of_user(store: GenerationStore, user_id: uuid.UUID) -> dict[str, int]:
    """What generation still holds of the user (nothing but its messaging after erasure)."""
    return {
        **await store.count_user_rows(user_id),
        "provider_cleanups_pending": len(await store.open_cleanup_ids(user_id)),
        **await store.messaging_residue(user_id),
    }
