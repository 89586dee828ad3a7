"""Operator routes under /v1/ops/billing: payments, refunds, disputes, reconciliation."""

from __future__ import annotations

from aiflux_kit.auth import CurrentAdmin, current_admin
from aiflux_kit.openapi import problem_responses
from aiflux_kit.service import last_sweeps
from fastapi import APIRouter, Depends, Query, Request

from ..adapters.repositories import PaymentFilter
from ..bootstrap import Container, Cursor, Limit
from ..domain.records import Page, PaymentRecord
from ..handlers import statements
from ..schemas import (
    Dispute,
    DisputeList,
    OpsPayment,
    OpsPaymentPage,
    Reconciliation,
    SweepOutcome,
    SweepRun,
)

RECONCILIATION = "stripe-reconciliation"
LIST_PROBLEMS = problem_responses(401, 403, 422, 503)

router = APIRouter(prefix="/v1/ops/billing", tags=["ops: billing"], dependencies=[Depends(current_admin)])


def _ops_page(page: Page[PaymentRecord]) -> OpsPaymentPage:
    # No user id: operators see payments, not people (ids only where they act on one).
    return OpsPaymentPage(
        items=[OpsPayment.model_validate(p, from_attributes=True) for p in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/payments", response_model=OpsPaymentPage, summary="Payments", responses=LIST_PROBLEMS)
async def payments(
    _: CurrentAdmin,
    container: Container,
    limit: Limit = 50,
    cursor: Cursor = None,
    status: str | None = Query(None, max_length=20),
) -> OpsPaymentPage:
    """Payments, newest first, optionally of one status."""
    return _ops_page(
        await statements.payments(container.database, limit, cursor, only=PaymentFilter(status=status))
    )


@router.get("/refunds", response_model=OpsPaymentPage, summary="Refunded payments", responses=LIST_PROBLEMS)
async def refunds(
    _: CurrentAdmin, container: Container, limit: Limit = 50, cursor: Cursor = None
) -> OpsPaymentPage:
    """Refunded payments with the credits taken back and those already spent."""
    return _ops_page(
        await statements.payments(container.database, limit, cursor, only=PaymentFilter(refunded=True))
    )


@router.get("/disputes", response_model=DisputeList, summary="Disputes", responses=LIST_PROBLEMS)
async def disputes(_: CurrentAdmin, container: Container, open_only: bool = False) -> DisputeList:
    """Disputes (spending is frozen while one is open)."""
    found = await statements.disputes(container.database, open_only)
    return DisputeList(items=[Dispute.model_validate(d, from_attributes=True) for d in found])


@router.get(
    "/reconciliation", response_model=Reconciliation, summary="Last reconciliation", responses=LIST_PROBLEMS
)
async def reconciliation(
    _: CurrentAdmin, container: Container, limit: Limit = 50, cursor: Cursor = None
) -> Reconciliation:
    """The last reconciliation run and the payments it fulfilled."""
    last = (await last_sweeps(container.database)).get(RECONCILIATION)
    fulfilled = _ops_page(
        await statements.payments(
            container.database, limit, cursor, only=PaymentFilter(fulfilled_via="reconciliation")
        )
    )
    last_run = (
        None
        if last is None
        else SweepRun(
            started_at=last.started_at, finished_at=last.finished_at, counts=last.counts, error=last.error
        )
    )
    return Reconciliation(last_run=last_run, items=fulfilled.items, next_cursor=fulfilled.next_cursor)


@router.post(
    "/reconciliation/run",
    response_model=SweepOutcome,
    summary="Reconcile now",
    responses=problem_responses(401, 403, 503),
)
async def run_reconciliation(_: CurrentAdmin, request: Request) -> SweepOutcome:
    """Reconcile with Stripe now."""
    result = await request.app.state.runtime.run_sweep("billing", RECONCILIATION)
    return SweepOutcome(counts=result.counts, error=result.error)
