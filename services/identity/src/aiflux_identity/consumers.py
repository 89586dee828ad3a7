"""Event subscriptions of the identity service: decode (done by the kit), call a handler."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiflux_contracts import (
    ErasureRequested,
    ErasureVerificationRequested,
    ExportRequested,
    PolicyPublished,
    SessionRevoked,
    UserDeleted,
    UserNotificationRequested,
    UserSuspended,
    UserUpdated,
)
from aiflux_kit.consumers import HandlerContext, Subscription

from .handlers import erasure, export, notifications
from .handlers.policy_notices import record_policy

if TYPE_CHECKING:
    from .bootstrap import IdentityContainer


def subscriptions(c: IdentityContainer) -> list[Subscription[Any]]:
    """What the identity service consumes."""

    async def on_erasure(ctx: HandlerContext, event: Any) -> None:
        if isinstance(event, ErasureRequested):
            await erasure.on_erasure_requested(c, ctx, event)
        elif isinstance(event, UserDeleted):
            await erasure.on_user_deleted(c, ctx, event)
        elif isinstance(event, ErasureVerificationRequested):
            await erasure.on_verification_requested(c, ctx, event)

    async def on_export(ctx: HandlerContext, event: ExportRequested) -> None:
        await export.on_export_requested(c, ctx, event)

    async def on_policy(ctx: HandlerContext, event: PolicyPublished) -> None:
        await record_policy(ctx.session, event)

    async def on_notification(ctx: HandlerContext, event: UserNotificationRequested) -> None:
        await notifications.on_notification_requested(c, ctx, event)

    async def on_own_event(ctx: HandlerContext, event: Any) -> None:
        # The bus refuses events no queue is bound for; these have no other consumer yet, so
        # identity binds them itself. A revoked session is dropped from this process's cache.
        verifier = c.platform.session_verifier
        if isinstance(event, SessionRevoked) and verifier is not None:
            verifier.forget(event.user_id, event.session_id_hash)

    return [
        Subscription("own-events", (SessionRevoked, UserUpdated, UserSuspended), on_own_event),
        Subscription("erasure", (ErasureRequested, UserDeleted, ErasureVerificationRequested), on_erasure),
        Subscription("export", (ExportRequested,), on_export),
        Subscription("policy", (PolicyPublished,), on_policy),
        Subscription("notifications", (UserNotificationRequested,), on_notification),
    ]
