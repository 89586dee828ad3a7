"""``identity.UserDeleted``: erase the user's generations; and the answer to
``ErasureVerificationRequested`` (what remains of the user here)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiflux_contracts import ErasureVerificationRequested, UserDeleted
from aiflux_contracts.receipts import ErasureVerified
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import forget_user_messages, guard_user, messaging_residue

from ..adapters import cleanups
from ..adapters import repository as repo
from ..domain.jobs import FINAL, REASON_ACCOUNT_DELETED
from .cleanup import complete_erasure
from .requests import request_cleanup

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer


async def on_user_deleted(c: GenerationContainer, ctx: HandlerContext,
                          event: UserDeleted) -> None:
    """Cancel running jobs, delete every generation and prompt, request provider cleanup
    for every provider job; the receipt follows once those cleanups are done.

    The guard comes first (late writes for the user wait for this transaction or are refused).
    Every delivery, first or re-driven, erases whatever exists now and adds to the request's
    totals; a re-drive with nothing new left to clean up answers with the receipt at once.
    """
    session = ctx.session
    await guard_user(session, event.user_id, event.request_id)
    jobs = await repo.user_generations(session, event.user_id, lock=True)
    for job in jobs:
        if job.status not in FINAL:
            await c.billing.void(job.id, REASON_ACCOUNT_DELETED)
    cleanup_ids = [str(i) for job in jobs if (i := await request_cleanup(session, job))]
    cleanup_ids += await cleanups.open_ids_of_user(session, event.user_id)
    restrictions = await repo.delete_user_data(session, event.user_id)
    await forget_user_messages(session, event.user_id)
    deleted = {"generations": len(jobs), "prompts": len(jobs),
               "processing_restrictions": restrictions}
    run = await cleanups.record_erasure_run(session, event.request_id, event.user_id, deleted,
                                            cleanup_ids)
    if await cleanups.all_done(session, run.cleanup_ids):
        await complete_erasure(session, run, c.settings.outbox_keep_days)


async def on_erasure_verification(ctx: HandlerContext,
                                  event: ErasureVerificationRequested) -> None:
    """Count what remains of the user here (should be nothing)."""
    session = ctx.session
    remaining = {
        **await repo.count_user_rows(session, event.user_id),
        "provider_cleanups_pending": len(await cleanups.open_ids_of_user(session,
                                                                         event.user_id)),
        **await messaging_residue(session, event.user_id),
    }
    await ctx.publish(ErasureVerified["generation"](
        request_id=event.request_id, user_id=event.user_id, remaining=remaining))
