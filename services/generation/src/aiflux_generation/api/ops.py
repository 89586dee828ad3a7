"""``/v1/ops/generation/...`` (admin only, audited): failed jobs, cleanups, providers. The kit
adds outbox, dead letters and sweeps."""

from __future__ import annotations

import uuid
from typing import Annotated

from aiflux_kit.auth import CurrentAdmin, current_admin
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Depends, Query

from ..bootstrap import Container
from ..handlers import ops
from ..schemas import (
    CleanupOut,
    CleanupPage,
    CleanupRetried,
    CleanupStatus,
    FailedJobOut,
    FailedJobPage,
    ProviderBreakerOut,
    ProviderBreakerPage,
)

router = APIRouter(
    prefix="/v1/ops/generation", tags=["ops: generation"], dependencies=[Depends(current_admin)]
)

Limit = Annotated[int, Query(ge=1, le=200)]
ADMIN_READ_PROBLEMS = (401, 403, 422, 503)


@router.get("/failed-jobs", response_model=FailedJobPage, responses=problem_responses(*ADMIN_READ_PROBLEMS))
async def failed_jobs(c: Container, _: CurrentAdmin, limit: Limit = 50) -> FailedJobPage:
    """Recently failed generations (no prompts: operators do not need them)."""
    jobs = await ops.failed_jobs(c, limit)
    return FailedJobPage(items=[FailedJobOut.model_validate(j, from_attributes=True) for j in jobs])


@router.get("/cleanups", response_model=CleanupPage, responses=problem_responses(*ADMIN_READ_PROBLEMS))
async def cleanups(
    c: Container, _: CurrentAdmin, status: CleanupStatus = "parked", limit: Limit = 50
) -> CleanupPage:
    """Provider cleanups by status: stuck ones are ``parked`` (or ``pending`` retrying)."""
    found = await ops.cleanups_by_status(c, status, limit)
    return CleanupPage(items=[CleanupOut.model_validate(x, from_attributes=True) for x in found])


@router.post(
    "/cleanups/{cleanup_id}/retry",
    response_model=CleanupRetried,
    responses=problem_responses(*ADMIN_READ_PROBLEMS, 404),
)
async def retry_cleanup(cleanup_id: uuid.UUID, c: Container, _: CurrentAdmin) -> CleanupRetried:
    """Put a parked (or waiting) cleanup back to run now."""
    await ops.retry_cleanup(c, cleanup_id)
    return CleanupRetried(cleanup_id=cleanup_id, status="pending")


@router.get("/providers", response_model=ProviderBreakerPage, responses=problem_responses(401, 403))
async def providers(c: Container, _: CurrentAdmin) -> ProviderBreakerPage:
    """Circuit-breaker state per provider in this process."""
    states = ops.breaker_states(c)
    return ProviderBreakerPage(
        items=[ProviderBreakerOut(provider=name, breaker=state) for name, state in states.items()]
    )
