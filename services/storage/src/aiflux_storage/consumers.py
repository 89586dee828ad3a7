"""Event subscriptions of the storage service: decode (done by the kit), call a handler."""

from __future__ import annotations

from typing import Any

from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportRequested,
    GenerationDeleted,
    GenerationRequested,
    UserDeleted,
)
from aiflux_kit.consumers import HandlerContext, Subscription

from .bootstrap import StorageContainer
from .handlers import erasure, export


def subscriptions(c: StorageContainer) -> list[Subscription[Any]]:
    """What the storage service consumes."""

    async def on_generation(ctx: HandlerContext, event: Any) -> None:
        if isinstance(event, GenerationRequested):
            await erasure.link_generation_inputs(c, ctx, event)
        elif isinstance(event, GenerationDeleted):
            await erasure.erase_generation(c, ctx, event)

    async def on_user_deleted(ctx: HandlerContext, event: UserDeleted) -> None:
        await erasure.erase_user(c, ctx, event)

    async def on_export(ctx: HandlerContext, event: ExportRequested) -> None:
        await export.write_storage_part(c, ctx, event)

    async def on_verification(ctx: HandlerContext, event: ErasureVerificationRequested) -> None:
        await erasure.verify_user_erased(c, ctx, event)

    return [
        # One queue keeps a generation's request and deletion in order.
        Subscription("generation-files", (GenerationRequested, GenerationDeleted), on_generation),
        # One event per transaction: these commit progress on connections of their own (a batch
        # holding a row they then wait for would never finish) and run long.
        Subscription("user-erasure", (UserDeleted,), on_user_deleted, prefetch=4, batch_size=1),
        Subscription("exports", (ExportRequested,), on_export, prefetch=4, batch_size=1),
        Subscription("erasure-verification", (ErasureVerificationRequested,), on_verification),
    ]
