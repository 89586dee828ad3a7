"""Deletion that really empties: a generation's files, and everything of a user.

Objects go first, metadata last, in the event's own transaction: a crash in between leaves
metadata that the retried event deletes again, never an object that nobody knows about.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

from aiflux_contracts import (
    ErasureCompleted,
    ErasureVerified,
    GenerationDeleted,
    GenerationRequested,
    UserDeleted,
)
from aiflux_contracts.privacy import ErasureVerificationRequested
from aiflux_contracts.storage import FilesErased
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import (
    forget_user_messages,
    guard_user,
    messaging_residue,
    retained_by_erasure,
)
from sqlalchemy import update

from ..adapters import repository as repo
from ..adapters.objects import delete_keys
from ..adapters.orm import UserErasureRow
from ..container import StorageContainer
from ..domain import keys

log = logging.getLogger(__name__)
PROVE_EMPTY_ATTEMPTS = 3


class PrefixNotEmpty(RuntimeError):
    """Objects remained under a user's prefix after deleting it (the event is retried)."""


async def link_generation_inputs(c: StorageContainer, ctx: HandlerContext,
                                 event: GenerationRequested) -> None:
    """Remember which input files a generation uses, so deleting it deletes them."""
    if event.input_file_ids:
        await repo.link_inputs(ctx.session, event.user_id, event.generation_id,
                               list(event.input_file_ids))


async def erase_generation(c: StorageContainer, ctx: HandlerContext,
                           event: GenerationDeleted) -> None:
    """Delete a deleted generation's outputs and the inputs no other generation uses."""
    named = [*event.input_file_ids, *event.output_file_ids]
    files = await repo.release_generation(ctx.session, event.user_id, event.generation_id, named)
    deleted = await delete_keys(c.store, [f.object_key for f in files])
    await repo.delete_files(ctx.session, [f.file_id for f in files])
    await ctx.publish(FilesErased(user_id=event.user_id, generation_id=event.generation_id,
                                  objects_deleted=deleted))
    log.info("generation files erased", extra={"generation_id": str(event.generation_id),
                                               "objects": deleted})


async def _progress(c: StorageContainer, request_id: uuid.UUID) -> UserErasureRow:
    async with c.database.transaction() as session:
        row = await session.get(UserErasureRow, request_id)
        if row is None:
            row = UserErasureRow(request_id=request_id, objects_deleted=0)
            session.add(row)
        return row


async def _count_deleted(c: StorageContainer, request_id: uuid.UUID, n: int) -> None:
    # Committed apart from the event's transaction, so a retry after a crash keeps the count.
    async with c.database.transaction() as session:
        await session.execute(update(UserErasureRow).where(
            UserErasureRow.request_id == request_id).values(
                objects_deleted=UserErasureRow.objects_deleted + n))


async def _empty_prefix(c: StorageContainer, request_id: uuid.UUID, prefix: str) -> None:
    """Delete everything under ``prefix`` in batches, then list it to prove it is empty."""
    for _ in range(PROVE_EMPTY_ATTEMPTS):
        while page := await c.store.list_prefix(prefix, limit=1000):
            await _count_deleted(c, request_id, await c.store.delete_batch(
                [o.key for o in page]))
        if not await c.store.list_prefix(prefix, limit=1):
            return
    raise PrefixNotEmpty("objects remain under the user's prefix")


async def _erase_exports(c: StorageContainer, ctx: HandlerContext,
                         user_id: uuid.UUID, request_id: uuid.UUID) -> int:
    """Cancel the user's exports: empty each export prefix, then forget its rows."""
    exports = await repo.exports_of_user(ctx.session, user_id)
    for export_id in exports:
        await _empty_prefix(c, request_id, keys.export_prefix(export_id))
    await repo.forget_exports(ctx.session, exports)
    return len(exports)


async def erase_user(c: StorageContainer, ctx: HandlerContext, event: UserDeleted) -> None:
    """Delete every object and all metadata of a deleted user, then publish the receipt.

    The guard comes first: it waits for writes already past their check and refuses later ones.
    Every delivery (first or re-driven) erases whatever exists now, so an object that landed
    after an earlier run goes too; the receipt counts everything erased under the request.
    """
    await guard_user(ctx.session, event.user_id, event.request_id)
    await _progress(c, event.request_id)
    await _empty_prefix(c, event.request_id, keys.user_prefix(event.user_id))
    exports = await _erase_exports(c, ctx, event.user_id, event.request_id)
    files = await repo.delete_user_files(ctx.session, event.user_id)
    await forget_user_messages(ctx.session, event.user_id)
    row = await ctx.session.get(UserErasureRow, event.request_id, populate_existing=True)
    assert row is not None
    row.files_deleted = (row.files_deleted or 0) + files
    row.completed_at = datetime.now(UTC)
    deleted = {"objects": row.objects_deleted, "files": row.files_deleted}
    await ctx.publish(FilesErased(user_id=event.user_id, objects_deleted=deleted["objects"]))
    await ctx.publish(ErasureCompleted["storage"](
        request_id=event.request_id, user_id=event.user_id, deleted=deleted,
        retained=retained_by_erasure("storage", c.settings.outbox_keep_days)))
    log.info("user objects erased", extra={"request_id": str(event.request_id),
                                           "exports": exports, **deleted})


async def remaining_of_user(c: StorageContainer, ctx: HandlerContext,
                            user_id: uuid.UUID) -> dict[str, int]:
    """What storage still holds of a user: objects under the prefix, export objects (listed in
    the store under every export of the user), metadata, exports and messaging residue."""
    objects = len(await c.store.list_prefix(keys.user_prefix(user_id)))
    exports = await repo.exports_of_user(ctx.session, user_id)
    export_objects = 0
    for request_id in exports:
        export_objects += len(await c.store.list_prefix(keys.export_prefix(request_id)))
    return {"objects": objects, "export_objects": export_objects,
            "files": await repo.count_files(ctx.session, user_id), "exports": len(exports),
            **await messaging_residue(ctx.session, user_id)}


async def verify_user_erased(c: StorageContainer, ctx: HandlerContext,
                             event: ErasureVerificationRequested) -> None:
    """Answer privacy with what remains of the user (must be all zeros)."""
    remaining = await remaining_of_user(c, ctx, event.user_id)
    await ctx.publish(ErasureVerified["storage"](
        request_id=event.request_id, user_id=event.user_id, remaining=remaining))

