"""Privacy events: erasure, restriction, export and erasure verification."""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportRequested,
    ProcessingRestricted,
    UserDeleted,
)
from aiflux_contracts.receipts import ErasureVerified, ExportPartReady
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import forget_user_messages, guard_user, is_erased, messaging_residue
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..adapters import repository as repo
from ..adapters.orm import generation, generation_erasure, processing_restriction, provider_cleanup
from ..domain.jobs import FINAL, REASON_ACCOUNT_DELETED
from .cleanup import cleanups_done, complete_erasure
from .requests import request_cleanup, view

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer

EXPORT_NAME = "generation.json"
log = logging.getLogger(__name__)


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
    rows = (await session.execute(sa.select(generation).where(
        generation.c.user_id == event.user_id).with_for_update())).all()
    for row in rows:
        if row.status not in FINAL:
            await c.billing.void(row.id, REASON_ACCOUNT_DELETED)
    cleanup_ids = [str(i) for row in rows if (i := await request_cleanup(session, row))]
    cleanup_ids += await _pending_cleanups(session, event.user_id)
    await session.execute(sa.delete(generation).where(generation.c.user_id == event.user_id))
    restrictions = (await session.execute(sa.delete(processing_restriction).where(
        processing_restriction.c.user_id == event.user_id))).rowcount
    await forget_user_messages(session, event.user_id)
    deleted = {"generations": len(rows), "prompts": len(rows),
               "processing_restrictions": int(restrictions or 0)}
    row = await _record_run(session, event, deleted, cleanup_ids)
    if await cleanups_done(session, row.cleanup_ids):
        await complete_erasure(session, row, c.settings.outbox_keep_days)


async def _record_run(session: Any, event: UserDeleted, deleted: dict[str, int],
                      cleanup_ids: list[str]) -> Any:
    """Add one run to the request's erasure row (totals, cleanups); reopen it until they
    are done."""
    earlier = (await session.execute(sa.select(generation_erasure).where(
        generation_erasure.c.request_id == event.request_id).with_for_update())).first()
    if earlier is not None:
        deleted = {k: int(earlier.deleted.get(k, 0)) + v for k, v in deleted.items()}
        cleanup_ids = [*earlier.cleanup_ids,
                       *(i for i in cleanup_ids if i not in earlier.cleanup_ids)]
    values = {"user_id": event.user_id, "deleted": deleted, "cleanup_ids": cleanup_ids,
              "completed_at": None}
    return (await session.execute(
        pg_insert(generation_erasure).values(request_id=event.request_id, **values)
        .on_conflict_do_update(index_elements=[generation_erasure.c.request_id], set_=values)
        .returning(generation_erasure))).one()


async def _pending_cleanups(session: Any, user_id: uuid.UUID) -> list[str]:
    """Cleanups of earlier deletions still running: the receipt waits for them too."""
    rows = (await session.execute(sa.select(provider_cleanup.c.cleanup_id).where(
        provider_cleanup.c.user_id == user_id, provider_cleanup.c.status != "done"))).all()
    return [str(r.cleanup_id) for r in rows]


async def on_processing_restricted(ctx: HandlerContext, event: ProcessingRestricted) -> None:
    """Keep (or lift) the user's restriction; new generations are refused while it holds.
    An erased user has nothing left to restrict (and gets no row again)."""
    if await is_erased(ctx.session, event.user_id):
        return
    await repo.set_restriction(ctx.session, event.user_id, event.restricted)


async def on_export_requested(c: GenerationContainer, ctx: HandlerContext,
                              event: ExportRequested) -> None:
    """Write the user's generations and prompts as ``generation.json`` to the export.

    An erased user's export was cancelled by the erasure: the event finishes without a part.
    """
    if await is_erased(ctx.session, event.user_id):
        return
    rows = (await ctx.session.execute(sa.select(generation).where(
        generation.c.user_id == event.user_id).order_by(generation.c.created_at))).all()
    document = {"service": "generation", "user_id": str(event.user_id),
                "generations": [_exported(c, row) for row in rows]}
    key = await c.storage.put_export(event.request_id, event.user_id, EXPORT_NAME,
                                     json.dumps(document, indent=2, default=_json_value).encode())
    if key is None:
        log.info("export cancelled by an erasure", extra={"request_id": str(event.request_id)})
        return
    await ctx.publish(ExportPartReady["generation"](
        request_id=event.request_id, user_id=event.user_id,
        prefix=key.rsplit("/", 1)[0] + "/", objects=[EXPORT_NAME]))


def _exported(c: GenerationContainer, row: Any) -> dict[str, Any]:
    """A generation as its owner sees it in the API (§2: prompt and result URLs): public
    download URLs and API paths only, never object keys, internal hosts or provider job ids."""
    shown = view(c, row)
    base = c.settings.public_url.rstrip("/")
    inputs = [{"file_id": f, "url": f"{base}/v1/files/{f}"} for f in shown.pop("input_file_ids")]
    return {**shown, "provider": row.provider, "inputs": inputs}


def _json_value(value: Any) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


async def on_erasure_verification(ctx: HandlerContext,
                                  event: ErasureVerificationRequested) -> None:
    """Count what remains of the user here (should be nothing)."""
    s = ctx.session
    remaining = {
        "generations": await _count(s, generation, generation.c.user_id == event.user_id),
        "processing_restrictions": await _count(
            s, processing_restriction, processing_restriction.c.user_id == event.user_id),
        "provider_cleanups_pending": await _count(
            s, provider_cleanup, (provider_cleanup.c.user_id == event.user_id)
            & (provider_cleanup.c.status != "done")),
        **await messaging_residue(s, event.user_id),
    }
    await ctx.publish(ErasureVerified["generation"](
        request_id=event.request_id, user_id=event.user_id, remaining=remaining))


async def _count(session: Any, table: sa.Table, where: Any) -> int:
    result = await session.execute(sa.select(sa.func.count()).select_from(table).where(where))
    return int(result.scalar_one())
