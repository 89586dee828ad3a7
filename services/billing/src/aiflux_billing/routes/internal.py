"""Internal routes for the generation service: holds (reserve, capture, void).

Generation reserves synchronously (docs/architecture.md): the user must get "not enough
credits" in the same request. The generation id is the idempotency key of every call.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from aiflux_kit.auth import InternalAuth
from aiflux_kit.erasure import refuse_if_erased
from fastapi import APIRouter, Response
from pydantic import BaseModel, ConfigDict, Field

from ..handlers import credits
from ..settings import BillingSettings
from .deps import Container


class HoldRequest(BaseModel):
    """``POST /internal/billing/holds``."""

    model_config = ConfigDict(extra="forbid")

    user_id: uuid.UUID
    generation_id: uuid.UUID
    credits: int = Field(gt=0, le=1_000_000)


class VoidRequest(BaseModel):
    """``POST /internal/billing/holds/{generation_id}/void``."""

    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="unspecified", max_length=500)


def _hold_json(hold: credits.HoldView) -> dict[str, Any]:
    return {"hold_id": str(hold.hold_id), "generation_id": str(hold.generation_id),
            "credits": hold.credits, "status": hold.status}


def add_internal_routes(router: APIRouter, settings: BillingSettings) -> None:
    """The hold routes, open to the generation service only."""
    auth = InternalAuth("billing", {name: key.get_secret_value()
                                    for name, key in settings.trusted_callers.items()})
    generation_only = [auth.require("generation")]

    @router.post("/internal/billing/holds", status_code=201, dependencies=generation_only)
    async def reserve(body: HoldRequest, response: Response,
                      container: Container) -> dict[str, Any]:
        """Hold credits for a generation: 201 new, 200 the same hold again, 402 too few, 410
        for an erased user."""
        async with container.database.transaction() as session:
            await refuse_if_erased(session, body.user_id)
            hold, created = await credits.reserve(
                session, body.user_id, body.generation_id, body.credits,
                timedelta(seconds=container.settings.hold_ttl_s))
        if not created:
            response.status_code = 200
        return _hold_json(hold)

    @router.post("/internal/billing/holds/{generation_id}/capture", dependencies=generation_only)
    async def capture(generation_id: uuid.UUID, container: Container) -> dict[str, Any]:
        """The generation completed: its held credits are spent (idempotent)."""
        async with container.database.transaction() as session:
            return _hold_json(await credits.capture(session, generation_id))

    @router.post("/internal/billing/holds/{generation_id}/void", dependencies=generation_only)
    async def void(generation_id: uuid.UUID, container: Container,
                   body: VoidRequest | None = None) -> dict[str, Any]:
        """The generation failed: its credits go back, at most once (idempotent)."""
        reason = (body or VoidRequest()).reason
        async with container.database.transaction() as session:
            return _hold_json(await credits.void(session, generation_id, reason))
