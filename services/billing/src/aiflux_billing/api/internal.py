"""Internal routes for the generation service: holds (reserve, capture, void).

Generation reserves synchronously (docs/architecture.md): the user must get "not enough
credits" in the same request. The generation id is the idempotency key of every call.
"""

from __future__ import annotations

import uuid
from datetime import timedelta

from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Response

from ..bootstrap import Container, GenerationCaller
from ..domain.records import HoldView
from ..handlers import credits
from ..schemas import Hold, HoldRequest, VoidRequest

router = APIRouter(prefix="/internal/billing/holds", dependencies=[GenerationCaller])

SETTLE_PROBLEMS = problem_responses(401, 403, 404, 409, 413, 422, 503)


def _hold(hold: HoldView) -> Hold:
    return Hold(
        hold_id=hold.hold_id, generation_id=hold.generation_id, credits=hold.credits, status=hold.status
    )


@router.post(
    "",
    status_code=201,
    response_model=Hold,
    summary="Reserve credits",
    responses={
        200: {"model": Hold, "description": "The same hold again"},
        **problem_responses(401, 402, 403, 409, 410, 413, 422, 503),
    },
)
async def reserve(body: HoldRequest, response: Response, container: Container) -> Hold:
    """Hold credits for a generation: 201 new, 200 the same hold again, 402 too few, 403 while
    a payment is disputed, 410 for an erased user."""
    async with container.database.transaction() as session:
        hold, created = await credits.reserve(
            session,
            body.user_id,
            body.generation_id,
            body.credits,
            timedelta(seconds=container.settings.hold_ttl_s),
        )
    if not created:
        response.status_code = 200
    return _hold(hold)


@router.post(
    "/{generation_id}/capture", response_model=Hold, summary="Capture a hold", responses=SETTLE_PROBLEMS
)
async def capture(generation_id: uuid.UUID, container: Container) -> Hold:
    """The generation completed: its held credits are spent (idempotent)."""
    async with container.database.transaction() as session:
        return _hold(await credits.capture(session, generation_id))


@router.post("/{generation_id}/void", response_model=Hold, summary="Void a hold", responses=SETTLE_PROBLEMS)
async def void(generation_id: uuid.UUID, container: Container, body: VoidRequest | None = None) -> Hold:
    """The generation failed: its credits go back, at most once (idempotent)."""
    reason = (body or VoidRequest()).reason
    async with container.database.transaction() as session:
        return _hold(await credits.void(session, generation_id, reason))
