"""``identity.UserDeleted``: erase the user's generations; and the answer to
``ErasureVerificationRequested`` (what remains of the user here)."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from aiflux_contracts import ErasureVerificationRequested, UserDeleted
from aiflux_contracts.receipts import ErasureVerified, ErasureVerifiedBase
from aiflux_kit.consumers import HandlerContext

from ..domain.jobs import FINAL, REASON_ACCOUNT_DELETED
from .cleanup import complete_erasure, remaining_of_user
from .requests import request_cleanup

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

# The per-service receipt classes are built at run time; this one has the base's fields.
GenerationErasureVerified = cast(type[ErasureVerifiedBase], ErasureVerified["generation"])


async def on_user_deleted(c: GenerationContainer, ctx: HandlerContext, event: UserDeleted) -> None:
    """Cancel running jobs, delete every generation and prompt, request provider cleanup
    for every provider job; the receipt follows once those cleanups are done.

    The guard comes first (late writes for the user wait for this transaction or are refused).
    Every delivery, first or re-driven, erases whatever exists now and adds to the request's
    totals; a re-drive with nothing new left to clean up answers with the receipt at once.
    """
    store = c.stores.bound(ctx.session)
    await store.guard_user(event.user_id, event.request_id)
    jobs = await store.user_generations(event.user_id, lock=True)
    for job in jobs:
        if job.status not in FINAL:
            await c.billing.void(job.id, REASON_ACCOUNT_DELETED)
    cleanup_ids = [str(i) for job in jobs if (i := await request_cleanup(store, job))]
    cleanup_ids += await store.open_cleanup_ids(event.user_id)
    restrictions = await store.delete_user_data(event.user_id)
    await store.forget_user_messages(event.user_id)
    deleted = {"generations": len(jobs), "prompts": len(jobs), "processing_restrictions": restrictions}
    run = await store.record_erasure_run(event.request_id, event.user_id, deleted, cleanup_ids)
    if await store.cleanups_done(run.cleanup_ids):
        await complete_erasure(store, run, c.settings.outbox_keep_days)


async def on_erasure_verification(
    c: GenerationContainer, ctx: HandlerContext, event: ErasureVerificationRequested
) -> None:
    """Count what remains of the user here (should be nothing)."""
    remaining = await remaining_of_user(c.stores.bound(ctx.session), event.user_id)
    await ctx.publish(
        GenerationErasureVerified(request_id=event.request_id, user_id=event.user_id, remaining=remaining)
    )
