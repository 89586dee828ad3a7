"""Operator routes under /v1/ops/billing: payments, refunds, disputes, reconciliation."""

from __future__ import annotations

from typing import Any

from aiflux_kit.auth import CurrentAdmin, current_admin
from aiflux_kit.service import last_sweeps
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from ..adapters.orm import Dispute, Payment
from .deps import Container, Cursor, Limit, page

RECONCILIATION = "stripe-reconciliation"


def _ops_payment(p: Payment) -> dict[str, Any]:
    # No user id: operators see payments, not people (ids only where they act on one).
    return {"payment_id": str(p.id), "session_id": p.stripe_session_id, "plan_id": p.plan_id,
            "credits": p.credits, "amount": p.amount, "currency": p.currency,
            "status": p.status, "fulfilled_via": p.fulfilled_via,
            "refunded_amount": p.refunded_amount, "credits_reversed": p.credits_reversed,
            "credits_unrecovered": p.credits_unrecovered, "created_at": p.created_at,
            "paid_at": p.paid_at, "pseudonymised": p.user_id is None,
            "retain_until": p.retain_until}


def ops_routes() -> APIRouter:
    """The billing-specific ops routes (admin only, audited)."""
    router = APIRouter(prefix="/v1/ops/billing", tags=["ops: billing"],
                       dependencies=[Depends(current_admin)])

    async def _payments(container: Any, limit: int, cursor: int | None,
                        *conditions: Any) -> dict[str, Any]:
        query = select(Payment).where(*conditions)
        if cursor:
            query = query.where(Payment.seq < cursor)
        async with container.database.transaction() as session:
            rows = (await session.scalars(query.order_by(Payment.seq.desc())
                                          .limit(limit + 1))).all()
        return page([_ops_payment(r) for r in rows], [r.seq for r in rows], limit)

    @router.get("/payments")
    async def payments(_: CurrentAdmin, container: Container, limit: Limit = 50,
                       cursor: Cursor = None, status: str | None = Query(None, max_length=20),
                       ) -> dict[str, Any]:
        """Payments, newest first, optionally of one status."""
        conditions = [Payment.status == status] if status else []
        return await _payments(container, limit, cursor, *conditions)

    @router.get("/refunds")
    async def refunds(_: CurrentAdmin, container: Container, limit: Limit = 50,
                      cursor: Cursor = None) -> dict[str, Any]:
        """Refunded payments with the credits taken back and those already spent."""
        return await _payments(container, limit, cursor, Payment.refunded_amount > 0)

    @router.get("/disputes")
    async def disputes(_: CurrentAdmin, container: Container,
                       open_only: bool = False) -> dict[str, Any]:
        """Disputes (spending is frozen while one is open)."""
        query = select(Dispute).order_by(Dispute.opened_at.desc()).limit(200)
        if open_only:
            query = query.where(Dispute.closed_at.is_(None))
        async with container.database.transaction() as session:
            rows = (await session.scalars(query)).all()
        return {"items": [{"dispute_id": d.id, "payment_id": str(d.payment_id),
                           "status": d.status, "amount": d.amount, "opened_at": d.opened_at,
                           "closed_at": d.closed_at, "credits_reversed": d.credits_reversed,
                           "credits_unrecovered": d.credits_unrecovered} for d in rows],
                "next_cursor": None}

    @router.get("/reconciliation")
    async def reconciliation(_: CurrentAdmin, container: Container, limit: Limit = 50,
                             cursor: Cursor = None) -> dict[str, Any]:
        """The last reconciliation run and the payments it fulfilled."""
        last = (await last_sweeps(container.database)).get(RECONCILIATION)
        fulfilled = await _payments(container, limit, cursor,
                                    Payment.fulfilled_via == "reconciliation")
        return {"last_run": None if last is None else {
            "started_at": last.started_at, "finished_at": last.finished_at,
            "counts": last.counts, "error": last.error}, **fulfilled}

    @router.post("/reconciliation/run")
    async def run_reconciliation(_: CurrentAdmin, request: Request) -> dict[str, Any]:
        """Reconcile with Stripe now."""
        result = await request.app.state.runtime.run_sweep("billing", RECONCILIATION)
        return {"counts": result.counts, "error": result.error}

    return router
