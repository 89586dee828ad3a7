"""Ops routes of the generation service (admin only): failed jobs, cleanups, providers."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Annotated, Any, Literal

import sqlalchemy as sa
from aiflux_kit.auth import CurrentAdmin, current_admin
from aiflux_kit.errors import not_found
from fastapi import APIRouter, Depends, Query, Request

from .adapters.orm import generation, provider_cleanup

if TYPE_CHECKING:
    from .bootstrap import GenerationContainer

Limit = Annotated[int, Query(ge=1, le=200)]


def _c(request: Request) -> GenerationContainer:
    found: GenerationContainer = request.app.state.services["generation"]
    return found


def ops_routes() -> APIRouter:
    """``/v1/ops/generation/...`` (the kit adds outbox, dead letters and sweeps)."""
    router = APIRouter(prefix="/v1/ops/generation", tags=["ops: generation"],
                       dependencies=[Depends(current_admin)])

    @router.get("/failed-jobs")
    async def failed_jobs(request: Request, _: CurrentAdmin, limit: Limit = 50
                          ) -> dict[str, Any]:
        """Recently failed generations (no prompts: operators do not need them)."""
        async with _c(request).database.transaction() as session:
            rows = (await session.execute(
                sa.select(generation.c.id, generation.c.user_id, generation.c.model,
                          generation.c.provider, generation.c.provider_job_id,
                          generation.c.failure_reason, generation.c.created_at,
                          generation.c.finished_at)
                .where(generation.c.status == "failed")
                .order_by(generation.c.finished_at.desc()).limit(limit))).all()
        return {"items": [dict(r._mapping) for r in rows], "next_cursor": None}

    @router.get("/cleanups")
    async def cleanups(request: Request, _: CurrentAdmin,
                       status: Literal["pending", "parked", "done"] = "parked",
                       limit: Limit = 50) -> dict[str, Any]:
        """Provider cleanups by status: stuck ones are ``parked`` (or ``pending`` retrying)."""
        async with _c(request).database.transaction() as session:
            rows = (await session.execute(
                sa.select(provider_cleanup.c.cleanup_id, provider_cleanup.c.generation_id,
                          provider_cleanup.c.provider, provider_cleanup.c.status,
                          provider_cleanup.c.attempts, provider_cleanup.c.last_error,
                          provider_cleanup.c.next_attempt_at, provider_cleanup.c.strategy,
                          provider_cleanup.c.created_at, provider_cleanup.c.done_at)
                .where(provider_cleanup.c.status == status)
                .order_by(provider_cleanup.c.created_at).limit(limit))).all()
        return {"items": [dict(r._mapping) for r in rows], "next_cursor": None}

    @router.post("/cleanups/{cleanup_id}/retry")
    async def retry_cleanup(cleanup_id: uuid.UUID, request: Request,
                            _: CurrentAdmin) -> dict[str, Any]:
        """Put a parked (or waiting) cleanup back to run now."""
        async with _c(request).database.transaction() as session:
            row = (await session.execute(
                sa.update(provider_cleanup)
                .where(provider_cleanup.c.cleanup_id == cleanup_id,
                       provider_cleanup.c.status != "done")
                .values(status="pending", attempts=0, next_attempt_at=sa.func.now())
                .returning(provider_cleanup.c.cleanup_id))).first()
        if row is None:
            raise not_found("open cleanup")
        return {"cleanup_id": cleanup_id, "status": "pending"}

    @router.get("/providers")
    async def providers(request: Request, _: CurrentAdmin) -> dict[str, Any]:
        """Circuit-breaker state per provider in this process."""
        c = _c(request)
        states = c.breakers.states()
        return {"items": [{"provider": name, "breaker": states.get(name, "closed")}
                          for name in c.providers]}

    return router
