"""Event subscriptions of the billing service: decode (done by the kit), call a handler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import httpx
from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportPartReady,
    ExportRequested,
    GenerationCompleted,
    GenerationFailed,
    UserDeleted,
)
from aiflux_kit.consumers import HandlerContext, Subscription
from aiflux_kit.erasure import is_erased
from aiflux_kit.errors import Problem
from aiflux_kit.http import peer_client, retrying

from .adapters.checkout import GatewayUnavailable
from .handlers import credits, privacy

if TYPE_CHECKING:
    from .bootstrap import BillingContainer

log = logging.getLogger(__name__)


def subscriptions(container: BillingContainer) -> list[Subscription[Any]]:
    """What the billing service consumes."""

    async def on_user_deleted(ctx: HandlerContext, event: UserDeleted) -> None:
        try:
            await privacy.erase_user(ctx, container.gateway, event.user_id, event.request_id,
                                     container.settings.outbox_keep_days)
        except GatewayUnavailable as exc:
            # Raising makes the kit retry later: erasure is delayed, never lost.
            raise RuntimeError("stripe unavailable while expiring checkout sessions") from exc

    async def on_export(ctx: HandlerContext, event: ExportRequested) -> None:
        if await is_erased(ctx.session, event.user_id):
            return  # the erasure cancelled the export: finish without a part
        document = await privacy.export_document(ctx.session, event.user_id)
        key = await _put_export(container, event, privacy.export_bytes(document))
        if key is None:
            log.info("export cancelled by an erasure", extra={
                "request_id": str(event.request_id)})
            return
        await ctx.publish(ExportPartReady["billing"](
            request_id=event.request_id, user_id=event.user_id,
            prefix=key.rsplit("/", 1)[0] if "/" in key else "", objects=["billing.json"]))

    async def on_verification(ctx: HandlerContext, event: ErasureVerificationRequested) -> None:
        await privacy.verify_erasure(ctx, event.user_id, event.request_id)

    async def on_generation_settled(ctx: HandlerContext,
                                    event: GenerationCompleted | GenerationFailed) -> None:
        # Backstop for the synchronous capture/void calls (a lost response, a crash between).
        try:
            if isinstance(event, GenerationCompleted):
                await credits.capture(ctx.session, event.generation_id)
            else:
                await credits.void(ctx.session, event.generation_id, "generation failed")
        except Problem as problem:
            log.info("generation settlement skipped", extra={
                "generation_id": str(event.generation_id), "problem": problem.slug})

    return [
        Subscription("user-erasure", (UserDeleted,), on_user_deleted),
        Subscription("privacy-export", (ExportRequested,), on_export),
        Subscription("erasure-verification", (ErasureVerificationRequested,), on_verification),
        Subscription("generation-settlement", (GenerationCompleted, GenerationFailed),
                     on_generation_settled),
    ]


async def _put_export(container: BillingContainer, event: ExportRequested,
                      body: bytes) -> str | None:
    """Store ``billing.json`` through storage's internal export route; returns its key, or
    None when storage answers 410 (the user was erased, the export is cancelled)."""
    async with peer_client("billing", "storage", container.settings) as client:
        async def put() -> httpx.Response:
            response = await client.put(
                f"/internal/storage/exports/{event.request_id}/objects/billing.json",
                content=body, params={"user_id": str(event.user_id)},
                headers={"Content-Type": "application/json"})
            if response.status_code != 410:
                response.raise_for_status()
            return response

        response = await retrying(put)
    if response.status_code == 410:
        return None
    return str(response.json().get("key", f"exports/{event.request_id}/billing.json"))
