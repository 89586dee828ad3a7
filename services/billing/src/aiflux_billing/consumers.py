"""Event subscriptions of the billing service: decode (done by the kit), call a handler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportRequested,
    GenerationCompleted,
    GenerationFailed,
    UserDeleted,
)
from aiflux_kit.consumers import HandlerContext, Subscription
from aiflux_kit.domain_errors import DomainError

from .adapters.checkout import GatewayUnavailable
from .adapters.repositories import BillingRepository
from .handlers import credits, erasure, export
from .handlers.payments import SessionPaymentBook

if TYPE_CHECKING:
    from .bootstrap import BillingContainer

log = logging.getLogger(__name__)


def subscriptions(container: BillingContainer) -> list[Subscription[Any]]:
    """What the billing service consumes."""

    async def on_user_deleted(ctx: HandlerContext, event: UserDeleted) -> None:
        try:
            receipt = await erasure.erase_user(
                BillingRepository(ctx.session),
                SessionPaymentBook(ctx.session),
                container.gateway,
                event.user_id,
                event.request_id,
                container.settings.outbox_keep_days,
            )
        except GatewayUnavailable as exc:
            # Raising makes the kit retry later: erasure is delayed, never lost.
            raise RuntimeError("stripe unavailable while expiring checkout sessions") from exc
        await ctx.publish(receipt)

    async def on_export(ctx: HandlerContext, event: ExportRequested) -> None:
        ready = await export.export_part(
            BillingRepository(ctx.session), container.exports, event.request_id, event.user_id
        )
        if ready is None:
            log.info("export cancelled by an erasure", extra={"request_id": str(event.request_id)})
            return
        await ctx.publish(ready)

    async def on_verification(ctx: HandlerContext, event: ErasureVerificationRequested) -> None:
        await ctx.publish(
            await erasure.verification(BillingRepository(ctx.session), event.user_id, event.request_id)
        )

    return [
        Subscription("user-erasure", (UserDeleted,), on_user_deleted),
        Subscription("privacy-export", (ExportRequested,), on_export),
        Subscription("erasure-verification", (ErasureVerificationRequested,), on_verification),
        Subscription("generation-settlement", (GenerationCompleted, GenerationFailed), on_generation_settled),
    ]


async def on_generation_settled(ctx: HandlerContext, event: GenerationCompleted | GenerationFailed) -> None:
    """Backstop for the synchronous capture/void calls (a lost response, a crash between)."""
    try:
        if isinstance(event, GenerationCompleted):
            await credits.capture(ctx.session, event.generation_id)
        else:
            await credits.void(ctx.session, event.generation_id, "generation failed")
    except DomainError as refusal:
        log.info(
            "generation settlement skipped",
            extra={"generation_id": str(event.generation_id), "problem": refusal.slug},
        )
