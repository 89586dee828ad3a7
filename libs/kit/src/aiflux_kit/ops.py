"""Ops routes every service has: outbox backlog, dead-lettered messages with replay, sweeps.

Admin role only; every call is audited by ``current_admin``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from .auth import CurrentAdmin, current_admin
from .errors import not_found
from .runtime import HOUSEKEEPING_INTERVAL_S
from .service import last_sweeps


def ops_router(service: str) -> APIRouter:
    """The generic ``/v1/ops/<service>`` routes."""
    router = APIRouter(prefix=f"/v1/ops/{service}", tags=[f"ops: {service}"],
                       dependencies=[Depends(current_admin)])

    def _spec(request: Request, consumer: str) -> Any:
        runtime = request.app.state.runtime
        unit = runtime.units[service]
        for sub in unit.subscriptions:
            if sub.name == consumer:
                return runtime.platform.queue_spec(service, sub)
        raise not_found("consumer")

    @router.get("/outbox")
    async def outbox_backlog(request: Request, _: CurrentAdmin) -> dict[str, Any]:
        """Unsent outbox rows and the age of the oldest."""
        count, age = await request.app.state.runtime.relays[service].backlog()
        return {"unsent": count, "oldest_age_seconds": round(age, 3)}

    @router.get("/dead-letters")
    async def dead_letters(request: Request, _: CurrentAdmin) -> dict[str, Any]:
        """Parked messages per consumer."""
        runtime = request.app.state.runtime
        items = []
        for sub in runtime.units[service].subscriptions:
            spec = runtime.platform.queue_spec(service, sub)
            parked = await runtime.platform.broker.list_parked(spec, limit=50)
            items.append({"consumer": sub.name, "queue": spec.name, "parked": len(parked),
                          "messages": [
                              {"message_id": m.message_id, "routing_key": m.routing_key,
                               "last_error": m.last_error} for m in parked]})
        return {"items": items, "next_cursor": None}

    @router.post("/dead-letters/{consumer}/replay")
    async def replay(request: Request, consumer: str, _: CurrentAdmin) -> dict[str, int]:
        """Move a consumer's parked messages back to its queue."""
        spec = _spec(request, consumer)
        moved = await request.app.state.runtime.platform.broker.replay_parked(spec)
        return {"replayed": moved}

    @router.get("/sweeps")
    async def sweeps(request: Request, _: CurrentAdmin) -> dict[str, Any]:
        """The last run of each scheduled sweep of this service."""
        runtime = request.app.state.runtime
        recorded = await last_sweeps(runtime.units[service].database)
        intervals = {sweep.name: sweep.interval_s for sweep in runtime.units[service].sweeps}
        intervals.setdefault("messaging-retention", HOUSEKEEPING_INTERVAL_S)
        items = []
        for name, interval in sorted(intervals.items()):
            last = recorded.get(name)
            items.append({"name": name, "interval_seconds": interval,
                          "last_run": None if last is None else {
                              "started_at": last.started_at, "finished_at": last.finished_at,
                              "counts": last.counts, "error": last.error}})
        return {"items": items, "next_cursor": None}

    return router
