"""Deletion that really empties: a generation's files, and everything of a user.

Objects go first, metadata last, in the event's own transaction: a crash in between leaves
metadata that the retried event deletes again, never an object that nobody knows about.
"""

from __future__ import annotations

import logging
import uuid

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
from aiflux_kit.erasure import MESSAGES_CATEGORY, receipt_messaging, retained_by_erasure

from ..adapters.objects import delete_keys
from ..bootstrap import StorageContainer
from ..domain import keys
from .ports import Records

log = logging.getLogger(__name__)
PROVE_EMPTY_ATTEMPTS = 3


class PrefixNotEmpty(RuntimeError):
    """Objects remained under a user's prefix after deleting it (the event is retried)."""


async def link_generation_inputs(
    c: StorageContainer, ctx: HandlerContext, event: GenerationRequested
) -> None:
    """Remember which input files a generation uses, so deleting it deletes them."""
    if event.input_file_ids:
        await c.records.within(ctx).link_inputs(
            event.user_id, event.generation_id, list(event.input_file_ids)
        )


async def erase_generation(c: StorageContainer, ctx: HandlerContext, event: GenerationDeleted) -> None:
    """Delete a deleted generation's outputs and the inputs no other generation uses."""
    records = c.records.within(ctx)
    named = [*event.input_file_ids, *event.output_file_ids]
    files = await records.release_generation(event.user_id, event.generation_id, named)
    deleted = await delete_keys(c.store, [f.object_key for f in files])
    await records.delete_files([f.file_id for f in files])
    await records.publish(
        FilesErased(user_id=event.user_id, generation_id=event.generation_id, objects_deleted=deleted)
    )
    log.info("generation files erased", extra={"generation_id": str(event.generation_id), "objects": deleted})


async def _start(c: StorageContainer, request_id: uuid.UUID) -> None:
    async with c.records.transaction() as records:
        await records.start_erasure(request_id)


async def _count_deleted(c: StorageContainer, request_id: uuid.UUID, n: int) -> None:
    # Committed apart from the event's transaction, so a retry after a crash keeps the count.
    async with c.records.transaction() as records:
        await records.count_deleted(request_id, n)


async def _empty_prefix(c: StorageContainer, request_id: uuid.UUID, prefix: str) -> None:
    """Delete everything under ``prefix``: one listing walk, deleted page by page (linear in the
    number of objects); then one check that it is empty (a write racing the walk is caught
    there, and the prefix walked again)."""
    for _ in range(PROVE_EMPTY_ATTEMPTS):
        async for page in c.store.key_pages(prefix):
            await _count_deleted(c, request_id, await c.store.delete_batch(page))
        if not await c.store.list_prefix(prefix, limit=1):
            return
    raise PrefixNotEmpty("objects remain under the user's prefix")


async def _erase_exports(
    c: StorageContainer, records: Records, user_id: uuid.UUID, request_id: uuid.UUID
) -> int:
    """Cancel the user's exports: empty each export prefix, then forget its rows."""
    exports = await records.exports_of_user(user_id)
    for export_id in exports:
        await _empty_prefix(c, request_id, keys.export_prefix(export_id))
    await records.forget_exports(exports)
    return len(exports)


async def erase_user(c: StorageContainer, ctx: HandlerContext, event: UserDeleted) -> None:
    """Delete every object and all metadata of a deleted user, then publish the receipt.

    The guard comes first: it waits for writes already past their check and refuses later ones.
    Every delivery (first or re-driven) erases whatever exists now, so an object that landed
    after an earlier run goes too; the receipt counts everything erased under the request.
    """
    records = c.records.within(ctx)
    await records.guard_user(event.user_id, event.request_id)
    await _start(c, event.request_id)
    await _empty_prefix(c, event.request_id, keys.user_prefix(event.user_id))
    exports = await _erase_exports(c, records, event.user_id, event.request_id)
    files = await records.delete_user_files(event.user_id)
    await records.forget_user_messages(event.user_id)
    tally = await records.finish_erasure(event.request_id, files)
    deleted = {"objects": tally.objects, "files": tally.files}
    await records.publish(FilesErased(user_id=event.user_id, objects_deleted=tally.objects))
    # The verification, in this transaction: what remains now (the receipt carries it).
    remaining = receipt_messaging(await remaining_of_user(c, records, event.user_id))
    retained = retained_by_erasure(
        "storage", c.settings.outbox_keep_days, messages=remaining[MESSAGES_CATEGORY]
    )
    # model_validate: the per-service receipt classes are built at runtime (typed as Event).
    await records.publish(
        ErasureCompleted["storage"].model_validate(
            {
                "request_id": event.request_id,
                "user_id": event.user_id,
                "deleted": deleted,
                "retained": retained,
                "remaining": remaining,
            }
        )
    )
    log.info(
        "user objects erased", extra={"request_id": str(event.request_id), "exports": exports, **deleted}
    )


async def remaining_of_user(c: StorageContainer, records: Records, user_id: uuid.UUID) -> dict[str, int]:
    """What storage still holds of a user: objects under the prefix, export objects (listed in
    the store under every export of the user), metadata, exports and messaging residue."""
    objects = len(await c.store.list_prefix(keys.user_prefix(user_id)))
    exports = await records.exports_of_user(user_id)
    export_objects = 0
    for request_id in exports:
        export_objects += len(await c.store.list_prefix(keys.export_prefix(request_id)))
    return {
        "objects": objects,
        "export_objects": export_objects,
        "files": await records.count_files(user_id),
        "exports": len(exports),
        **await records.messaging_residue(user_id),
    }


async def verify_user_erased(
    c: StorageContainer, ctx: HandlerContext, event: ErasureVerificationRequested
) -> None:
    """Answer privacy with what remains of the user (must be all zeros)."""
    records = c.records.within(ctx)
    remaining = await remaining_of_user(c, records, event.user_id)
    await records.publish(
        ErasureVerified["storage"].model_validate(
            {"request_id": event.request_id, "user_id": event.user_id, "remaining": remaining}
        )
    )
