"""Event subscriptions of the privacy service: decode (done by the kit), call a handler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiflux_contracts import (
    ErasureCompleted,
    ErasureVerificationRequested,
    ErasureVerified,
    ExportPartReady,
    ExportRequested,
    PolicyAccepted,
    UserDeleted,
    UserPurged,
    UserRegistered,
)
from aiflux_kit.consumers import HandlerContext, Subscription

from .handlers import erasure, export, registration

if TYPE_CHECKING:
    from .bootstrap import PrivacyContainer

RECEIPTS_PREFETCH = 64
"""Receipts handled at once (RabbitMQ's prefetch; the in-process bus runs at most its workers
per queue)."""


def subscriptions(container: PrivacyContainer) -> list[Subscription[Any]]:
    """What the privacy service consumes."""
    by_class = {cls: name for name, cls in ErasureCompleted.items()}
    by_class.update({cls: name for name, cls in ErasureVerified.items()})
    by_class.update({cls: name for name, cls in ExportPartReady.items()})

    async def registered(ctx: HandlerContext, event: Any) -> None:
        if isinstance(event, UserRegistered):
            await registration.on_user_registered(ctx, event, container.consent_id_secret)
        else:
            await registration.on_policy_accepted(ctx, event)

    async def user_deleted(ctx: HandlerContext, event: UserDeleted) -> None:
        await erasure.on_user_deleted(ctx, event, container.pepper, container.settings.outbox_keep_days)

    async def user_purged(ctx: HandlerContext, event: UserPurged) -> None:
        await erasure.on_user_purged(ctx, event, container.pepper)

    async def receipts(ctx: HandlerContext, event: Any) -> None:
        service = by_class[type(event)]
        if type(event) in ErasureCompleted.values():
            await erasure.on_receipt(ctx, service, event, container.pepper, container.settings.max_redrives)
        else:
            await erasure.on_verified(ctx, service, event, container.pepper, container.settings.max_redrives)

    async def verification(ctx: HandlerContext, event: ErasureVerificationRequested) -> None:
        await erasure.on_verification_requested(ctx, event)

    async def export_requested(ctx: HandlerContext, event: ExportRequested) -> None:
        await export.on_export_requested(ctx, event, container.storage)

    async def part_ready(ctx: HandlerContext, event: Any) -> None:
        await export.on_part_ready(ctx, by_class[type(event)], event, container.assembler)

    return [
        Subscription("consents", (UserRegistered, PolicyAccepted), registered),
        Subscription("user-deleted", (UserDeleted,), user_deleted),
        Subscription("user-purged", (UserPurged,), user_purged),
        # One queue for receipts and verifications: each takes the request's row lock, so those
        # of one erasure queue up there while many erasures' receipts are handled at once (50
        # accounts erased together send 250 receipts): a deep prefetch, not the default 16.
        Subscription(
            "erasure-receipts",
            (*ErasureCompleted.values(), *ErasureVerified.values()),
            receipts,
            prefetch=RECEIPTS_PREFETCH,
        ),
        Subscription("erasure-verification", (ErasureVerificationRequested,), verification),
        Subscription("export-part", (ExportRequested,), export_requested),
        Subscription("export-parts-ready", tuple(ExportPartReady.values()), part_ready),
    ]
