"""Ops routes every service has: outbox backlog, dead-lettered messages with replay, sweeps.

Admin role only; every call is audited by ``current_admin``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from .auth import CurrentAdmin, current_admin
from .errors import not_found
from .openapi import problem_responses
from .runtime import HOUSEKEEPING_INTERVAL_S
from .service import last_sweeps


class OutboxBacklog(BaseModel):
    """Events written but not yet confirmed by the bus."""

    unsent: int
    oldest_age_seconds: float


class ParkedMessageView(BaseModel):
    """A message a consumer gave up on (no body: it may name a user)."""

    message_id: str | None
    routing_key: str
    last_error: str | None


class ConsumerDeadLetters(BaseModel):
    """One consumer's parked messages (the first 50)."""

    consumer: str
    queue: str
    parked: int
    messages: list[ParkedMessageView]


class DeadLetterPage(BaseModel):
    """Parked messages per consumer of the service."""

    items: list[ConsumerDeadLetters]
    next_cursor: str | None = None


class Replayed(BaseModel):
    """How many parked messages went back to their queue."""

    replayed: int


class SweepRunView(BaseModel):
    """One run of a sweep: when, what it did (counts) or the error type."""

    started_at: datetime
    finished_at: datetime | None
    counts: dict[str, int]
    error: str | None


class SweepView(BaseModel):
    """A scheduled sweep of the service and its last run."""

    name: str
    interval_seconds: float
    last_run: SweepRunView | None


class SweepPage(BaseModel):
    """Every sweep of the service."""

    items: list[SweepView]
    next_cursor: str | None = None


ADMIN_PROBLEMS = problem_responses(401, 403, 503)


def ops_router(service: str) -> APIRouter:
    """The generic ``/v1/ops/<service>`` routes."""
    router = APIRouter(
        prefix=f"/v1/ops/{service}",
        tags=[f"ops: {service}"],
        dependencies=[Depends(current_admin)],
        responses=ADMIN_PROBLEMS,
    )

    def _spec(request: Request, consumer: str) -> Any:
        runtime = request.app.state.runtime
        unit = runtime.units[service]
        for sub in unit.subscriptions:
            if sub.name == consumer:
                return runtime.platform.queue_spec(service, sub)
        raise not_found("consumer")

    @router.get("/outbox", response_model=OutboxBacklog)
    async def outbox_backlog(request: Request, _: CurrentAdmin) -> dict[str, Any]:
        """Unsent outbox rows and the age of the oldest."""
        count, age = await request.app.state.runtime.relays[service].backlog()
        return {"unsent": count, "oldest_age_seconds": round(age, 3)}

    @router.get("/dead-letters", response_model=DeadLetterPage)
    async def dead_letters(request: Request, _: CurrentAdmin) -> dict[str, Any]:
        """Parked messages per consumer."""
        runtime = request.app.state.runtime
        items = []
        for sub in runtime.units[service].subscriptions:
            spec = runtime.platform.queue_spec(service, sub)
            parked = await runtime.platform.broker.list_parked(spec, limit=50)
            items.append(
                {
                    "consumer": sub.name,
                    "queue": spec.name,
                    "parked": len(parked),
                    "messages": [
                        {"message_id": m.message_id, "routing_key": m.routing_key, "last_error": m.last_error}
                        for m in parked
                    ],
                }
            )
        return {"items": items, "next_cursor": None}

    @router.post(
        "/dead-letters/{consumer}/replay", response_model=Replayed, responses=problem_responses(404, 422)
    )
    async def replay(request: Request, consumer: str, _: CurrentAdmin) -> dict[str, int]:
        """Move a consumer's parked messages back to its queue."""
        spec = _spec(request, consumer)
        moved = await request.app.state.runtime.platform.broker.replay_parked(spec)
        return {"replayed": moved}

    @router.get("/sweeps", response_model=SweepPage)
    async def sweeps(request: Request, _: CurrentAdmin) -> dict[str, Any]:
        """The last run of each scheduled sweep of this service."""
        runtime = request.app.state.runtime
        recorded = await last_sweeps(runtime.units[service].database)
        intervals = {sweep.name: sweep.interval_s for sweep in runtime.units[service].sweeps}
        intervals.setdefault("messaging-retention", HOUSEKEEPING_INTERVAL_S)
        items = []
        for name, interval in sorted(intervals.items()):
            last = recorded.get(name)
            items.append(
                {
                    "name": name,
                    "interval_seconds": interval,
                    "last_run": None
                    if last is None
                    else {
                        "started_at": last.started_at,
                        "finished_at": last.finished_at,
                        "counts": last.counts,
                        "error": last.error,
                    },
                }
            )
        return {"items": items, "next_cursor": None}

    return router
