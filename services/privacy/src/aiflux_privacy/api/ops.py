"""Operator routes under /v1/ops/privacy (admin role; the kit audits every call)."""

from __future__ import annotations

import uuid
from typing import Any

from aiflux_kit.auth import CurrentAdmin
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Query, Request

from ..bootstrap import Container, Session
from ..handlers import marketing, minors, policy, requests, retention
from ..handlers.views import ops_detail, ops_view
from ..schemas import (
    CampaignBody,
    CampaignSent,
    DecisionBody,
    ExtensionBody,
    LiftBody,
    MinorDecision,
    MinorDecisionBody,
    MinorReportView,
    OpsRequestDetail,
    OpsRequestView,
    Page,
    PolicyBody,
    PolicySummary,
    RetentionRun,
)

router = APIRouter(prefix="/v1/ops/privacy", tags=["ops: privacy"])

ADMIN = (401, 403, 503)
"""What every operator route can answer: not signed in, not an admin, database down."""


@router.get(
    "/requests",
    response_model=Page[OpsRequestView],
    response_model_exclude_unset=True,
    responses=problem_responses(*ADMIN, 422),
)
async def open_requests(
    _: CurrentAdmin,
    session: Session,
    limit: int = Query(50, ge=1, le=200),
    cursor: int = Query(0, ge=0, le=2**63 - 1),
) -> dict[str, Any]:
    """Open requests with days left, overdue ones first, and restrictions in effect."""
    rows = await requests.open_requests(session, limit, cursor)
    return {
        "items": [ops_view(r) for r in rows],
        "next_cursor": str(cursor + limit) if len(rows) == limit else None,
    }


@router.get(
    "/requests/{request_id}",
    response_model=OpsRequestDetail,
    response_model_exclude_unset=True,
    responses=problem_responses(*ADMIN, 404, 422),
)
async def request_detail(request_id: uuid.UUID, _: CurrentAdmin, session: Session) -> dict[str, Any]:
    """One request with its per-service receipts and, once erased, its certificate."""
    row = await requests.load_request(session, request_id)
    return ops_detail(row, await requests.load_steps(session, request_id))


@router.post(
    "/requests/{request_id}/extension",
    response_model=OpsRequestView,
    response_model_exclude_unset=True,
    responses=problem_responses(*ADMIN, 404, 409, 422),
)
async def extend(
    request_id: uuid.UUID, body: ExtensionBody, _: CurrentAdmin, session: Session
) -> dict[str, Any]:
    """Extend the deadline once; the user is mailed the reason."""
    return ops_view(await requests.extend_deadline(session, request_id, body.days, body.reason))


@router.post(
    "/requests/{request_id}/decision",
    response_model=OpsRequestView,
    response_model_exclude_unset=True,
    responses=problem_responses(*ADMIN, 404, 409, 422),
)
async def decide(
    request_id: uuid.UUID, body: DecisionBody, _: CurrentAdmin, session: Session
) -> dict[str, Any]:
    """Decide a rectification or objection; the user is mailed the answer."""
    return ops_view(await requests.decide(session, request_id, body.granted, body.answer))


@router.post(
    "/requests/{request_id}/lift-restriction",
    response_model=OpsRequestView,
    response_model_exclude_unset=True,
    responses=problem_responses(*ADMIN, 404, 409, 422),
)
async def lift(request_id: uuid.UUID, body: LiftBody, _: CurrentAdmin, session: Session) -> dict[str, Any]:
    """End a restriction of processing."""
    return ops_view(await requests.lift_restriction(session, request_id, body.reason))


@router.post(
    "/policy/versions",
    status_code=201,
    response_model=PolicySummary,
    responses=problem_responses(*ADMIN, 409, 422),
)
async def publish(body: PolicyBody, admin: CurrentAdmin, session: Session) -> dict[str, Any]:
    """Publish a policy version: every user is notified (identity mails in batches)."""
    row, status = await policy.publish(
        session, admin.user_id, body.version, body.text, body.substantial, body.effective_at
    )
    return policy.version_view(row, status, with_text=False)


@router.post(
    "/marketing/campaigns",
    status_code=202,
    response_model=CampaignSent,
    responses=problem_responses(*ADMIN, 422),
)
async def campaign(
    body: CampaignBody, admin: CurrentAdmin, container: Container, session: Session
) -> dict[str, Any]:
    """Send a campaign to the users whose marketing consent stands right now."""
    return await marketing.send_campaign(
        session, admin.user_id, body.subject, body.body, container.settings.public_url, container.link_secret
    )


@router.get("/minor-reports", response_model=Page[MinorReportView], responses=problem_responses(*ADMIN))
async def minor_reports(_: CurrentAdmin, session: Session) -> dict[str, Any]:
    """Reports waiting for review."""
    return {"items": await minors.open_reports(session), "next_cursor": None}


@router.post(
    "/minor-reports/{report_id}/decision",
    response_model=MinorDecision,
    responses=problem_responses(*ADMIN, 404, 409, 410, 422),
)
async def decide_minor(
    report_id: uuid.UUID, body: MinorDecisionBody, _: CurrentAdmin, container: Container, session: Session
) -> dict[str, Any]:
    """Dismiss, or confirm: suspend the account and erase it."""
    return await minors.decide(
        session, container.identity, report_id, body.confirmed, body.reason, body.user_id
    )


@router.get("/retention", response_model=Page[RetentionRun], responses=problem_responses(401, 403))
async def retention_runs(request: Request, _: CurrentAdmin, container: Container) -> dict[str, Any]:
    """Every retention rule with the last run of its sweep, asked of the owner service."""
    # The operator's own credentials go along: the owner service audits the call too.
    credentials = {k: v for k, v in request.headers.items() if k.lower() in ("authorization", "cookie")}
    items = await retention.rules_with_last_runs(container.settings, credentials)
    return {"items": items, "next_cursor": None}
