"""Operator routes under /v1/ops/privacy (admin role; the kit audits every call)."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from aiflux_kit.auth import CurrentAdmin
from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field

from ..domain.catalog import retention_rules
from ..handlers import marketing, minors, policy, requests
from ..handlers.views import ops_view, request_view
from .deps import Container, Session


class ExtensionBody(BaseModel):
    """Extend a deadline once, by up to two months, with a reason the user is told."""

    days: int = Field(ge=1, le=62)
    reason: str = Field(min_length=3, max_length=2000)


class DecisionBody(BaseModel):
    """An operator's decision on a rectification or objection."""

    granted: bool
    answer: str = Field(min_length=3, max_length=5000)


class LiftBody(BaseModel):
    """Why a restriction ends."""

    reason: str = Field(min_length=3, max_length=2000)


class PolicyBody(BaseModel):
    """A new privacy-policy version."""

    version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    text: str = Field(min_length=20)
    substantial: bool
    effective_at: AwareDatetime | None = Field(
        None, description="When it takes effect (with a time zone; now or later, default now). "
        "Until then the version in force does not change; users are mailed at once.")


class CampaignBody(BaseModel):
    """A marketing mail to every user whose consent stands at send time."""

    subject: str = Field(min_length=1, max_length=200)
    body: str = Field(min_length=1, max_length=20000)


class MinorDecisionBody(BaseModel):
    """The review of a minor report."""

    confirmed: bool
    reason: str = Field(min_length=3, max_length=2000)
    user_id: uuid.UUID | None = None


def router() -> APIRouter:
    """The ops routes."""
    api = APIRouter(prefix="/v1/ops/privacy", tags=["ops: privacy"])
    _request_routes(api)
    _policy_and_marketing(api)
    _minors_and_retention(api)
    return api


def _request_routes(api: APIRouter) -> None:
    @api.get("/requests")
    async def open_requests(_: CurrentAdmin, session: Session,
                            limit: int = Query(50, ge=1, le=200),
                            cursor: int = Query(0, ge=0, le=2**63 - 1)) -> dict[str, Any]:
        """Open requests with days left, overdue ones first, and restrictions in effect."""
        rows = await requests.open_requests(session, limit, cursor)
        return {"items": [ops_view(r) for r in rows],
                "next_cursor": cursor + limit if len(rows) == limit else None}

    @api.get("/requests/{request_id}")
    async def request_detail(request_id: uuid.UUID, _: CurrentAdmin, session: Session
                             ) -> dict[str, Any]:
        """One request with its per-service receipts and, once erased, its certificate."""
        row = await requests.load_request(session, request_id)
        view = {**ops_view(row), **request_view(row, await requests.load_steps(session,
                                                                            request_id))}
        view["certificate"] = row.certificate
        return view

    @api.post("/requests/{request_id}/extension")
    async def extend(request_id: uuid.UUID, body: ExtensionBody, _: CurrentAdmin,
                     session: Session) -> dict[str, Any]:
        """Extend the deadline once; the user is mailed the reason."""
        return ops_view(await requests.extend_deadline(session, request_id, body.days,
                                                       body.reason))

    @api.post("/requests/{request_id}/decision")
    async def decide(request_id: uuid.UUID, body: DecisionBody, _: CurrentAdmin,
                     session: Session) -> dict[str, Any]:
        """Decide a rectification or objection; the user is mailed the answer."""
        return ops_view(await requests.decide(session, request_id, body.granted, body.answer))

    @api.post("/requests/{request_id}/lift-restriction")
    async def lift(request_id: uuid.UUID, body: LiftBody, _: CurrentAdmin, session: Session
                   ) -> dict[str, Any]:
        """End a restriction of processing."""
        return ops_view(await requests.lift_restriction(session, request_id, body.reason))


def _policy_and_marketing(api: APIRouter) -> None:
    @api.post("/policy/versions", status_code=201)
    async def publish(body: PolicyBody, admin: CurrentAdmin, session: Session) -> dict[str, Any]:
        """Publish a policy version: every user is notified (identity mails in batches)."""
        row, status = await policy.publish(session, admin.user_id, body.version, body.text,
                                           body.substantial, body.effective_at)
        return policy.version_view(row, status, with_text=False)

    @api.post("/marketing/campaigns", status_code=202)
    async def campaign(body: CampaignBody, admin: CurrentAdmin, container: Container,
                       session: Session) -> dict[str, Any]:
        """Send a campaign to the users whose marketing consent stands right now."""
        return await marketing.send_campaign(session, admin.user_id, body.subject, body.body,
                                             container.settings.public_url,
                                             container.link_secret)


def _minors_and_retention(api: APIRouter) -> None:
    @api.get("/minor-reports")
    async def minor_reports(_: CurrentAdmin, session: Session) -> dict[str, Any]:
        """Reports waiting for review."""
        return {"items": await minors.open_reports(session), "next_cursor": None}

    @api.post("/minor-reports/{report_id}/decision")
    async def decide_minor(report_id: uuid.UUID, body: MinorDecisionBody, _: CurrentAdmin,
                           container: Container, session: Session) -> dict[str, Any]:
        """Dismiss, or confirm: suspend the account and erase it."""
        return await minors.decide(session, container.identity, report_id, body.confirmed,
                                   body.reason, body.user_id)

    @api.get("/retention")
    async def retention_runs(request: Request, _: CurrentAdmin, container: Container
                             ) -> dict[str, Any]:
        """Every retention rule with the last run of its sweep, asked of the owner service."""
        runs: dict[str, dict[str, Any]] = {}
        for service in sorted({r["owner_service"] for r in retention_rules()}):
            runs[service] = await _sweeps_of(request, container, service)
        items = []
        for rule in retention_rules():
            sweeps = runs[rule["owner_service"]]
            items.append({**rule, "last_run": sweeps.get(rule["sweep"], {}).get("last_run"),
                          "reported": rule["sweep"] in sweeps})
        return {"items": items, "next_cursor": None}


async def _sweeps_of(request: Request, container: Container, service: str
                     ) -> dict[str, dict[str, Any]]:
    # The operator's own credentials go along: the owner service audits the call too.
    headers = {k: v for k, v in request.headers.items()
               if k.lower() in ("authorization", "cookie")}
    base_url = getattr(container.settings, f"{service}_url")
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
            response = await client.get(f"/v1/ops/{service}/sweeps", headers=headers)
    except httpx.TransportError:
        return {}
    if not response.is_success:
        return {}
    return {item["name"]: item for item in response.json().get("items", [])}



