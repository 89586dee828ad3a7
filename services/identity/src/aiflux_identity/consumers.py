"""Event subscriptions of the identity service: decode (done by the kit), call a handler."""

from __future__ import annotations

from typing import Any

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

from .handlers import privacy_events as h
from .handlers.common import IdentityContainer
from .policy_notices import record_policy


def subscriptions(c: IdentityContainer) -> list[Subscription[Any]]:
    """What the identity service consumes."""

    async def erasure(ctx: HandlerContext, event: Any) -> None:
        if isinstance(event, ErasureRequested):
            await h.on_erasure_requested(c, ctx, event)
        elif isinstance(event, UserDeleted):
            await h.on_user_deleted(c, ctx, event)
        elif isinstance(event, ErasureVerificationRequested):
            await h.on_verification_requested(c, ctx, event)

    async def export(ctx: HandlerContext, event: ExportRequested) -> None:
        await h.on_export_requested(c, ctx, event)

    async def policy(ctx: HandlerContext, event: PolicyPublished) -> None:
        await record_policy(ctx.session, event)

    async def notify(ctx: HandlerContext, event: UserNotificationRequested) -> None:
        await h.on_notification_requested(c, ctx, event)

    async def own(ctx: HandlerContext, event: Any) -> None:
        # The bus refuses events no queue is bound for; these have no other consumer yet, so
        # identity binds them itself. A revoked session is dropped from this process's cache.
        verifier = c.platform.session_verifier
        if isinstance(event, SessionRevoked) and verifier is not None:
            verifier.forget(event.user_id, event.session_id_hash)

    return [
        Subscription("own-events", (SessionRevoked, UserUpdated, UserSuspended), own),
        Subscription("erasure", (ErasureRequested, UserDeleted, ErasureVerificationRequested),
                     erasure),
        Subscription("export", (ExportRequested,), export),
        Subscription("policy", (PolicyPublished,), policy),
        Subscription("notifications", (UserNotificationRequested,), notify),
    ]
