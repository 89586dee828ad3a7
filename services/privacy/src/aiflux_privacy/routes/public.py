"""Public routes: policy, processors, retention, consents, requests, minor reports."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from html import escape
from typing import Any

from aiflux_kit.auth import CurrentUserAnyPolicy
from aiflux_kit.erasure import refuse_if_erased
from aiflux_kit.errors import Problem
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import BaseModel, Field

from ..domain.catalog import processors, retention_rules
from ..domain.consent import TOGGLEABLE, Purpose
from ..domain.consent_id import issue_consent_id
from ..domain.requests import EXPORT_TYPES, RequestType, Status
from ..handlers import consents, marketing, minors, policy, requests, status_link
from ..handlers.views import request_view
from .deps import Container, MaybeUser, Session, consent_cookie

COOKIE_MAX_AGE = 60 * 60 * 24 * 365


class ConsentBody(BaseModel):
    """A consent decision."""

    granted: bool


class RequestBody(BaseModel):
    """A data-subject request."""

    type: RequestType
    details: str | None = Field(default=None, max_length=5000)


class MinorReportBody(BaseModel):
    """A report that an account belongs to someone under 16."""

    account: str = Field(min_length=1, max_length=200, description="username or user id")
    details: str | None = Field(default=None, max_length=2000)


def router() -> APIRouter:
    """The public routes."""
    api = APIRouter(prefix="/v1/privacy", tags=["privacy"])
    _catalog_routes(api)
    _consent_routes(api)
    _request_routes(api)
    return api


def _catalog_routes(api: APIRouter) -> None:
    @api.get("/policy")
    async def current_policy(session: Session) -> dict[str, Any]:
        """The privacy-policy version in force."""
        return policy.version_view(await policy.current_policy(session), "in_force")

    @api.get("/policy/versions")
    async def policy_versions(session: Session) -> dict[str, Any]:
        """Every published version, newest first: scheduled, in force or superseded."""
        rows = await policy.all_versions(session)
        return {"items": [policy.version_view(r, status, with_text=False) for r, status in rows],
                "next_cursor": None}

    @api.get("/processors")
    async def processor_registry() -> dict[str, Any]:
        """The processors of §6: purpose, data categories, country, transfer basis."""
        return {"items": processors(), "next_cursor": None}

    @api.get("/retention")
    async def retention() -> dict[str, Any]:
        """The retention rules of §5 with owner service, period, trigger, action and sweep."""
        return {"items": retention_rules(), "next_cursor": None}

    @api.post("/minor-reports", status_code=202)
    async def report_minor(body: MinorReportBody, request: Request, session: Session
                           ) -> dict[str, Any]:
        """Anyone may report an account as belonging to someone under 16 (§8)."""
        client = request.client.host if request.client else "unknown"
        await request.app.state.limiter.hit("privacy-minor-report", client, "10/hour")
        report_id = await minors.report(session, body.account, body.details)
        return {"id": str(report_id), "status": "open"}


def _subject(user: Any, request: Request, response: Response, create: bool
             ) -> tuple[uuid.UUID | None, consents.SubjectKind]:
    if user is not None:
        return user.user_id, "user"
    found = request.app.state.services["privacy"]
    anonymous = consent_cookie(request)
    if anonymous is None and create:
        # Only ids privacy issued (signed) are accepted back: a client cannot choose its own.
        anonymous = issue_consent_id(found.consent_id_secret)
    if anonymous is not None:
        settings = found.settings
        # Behind the TLS-terminating ingress the request looks like http: trust the public URL.
        response.set_cookie(settings.consent_cookie, str(anonymous), max_age=COOKIE_MAX_AGE,
                            httponly=True, samesite="lax",
                            secure=settings.public_url.startswith("https://"))
    return anonymous, "anonymous"


def _consent_routes(api: APIRouter) -> None:
    @api.get("/consents")
    async def get_consents(request: Request, response: Response, user: MaybeUser,
                           session: Session) -> dict[str, Any]:
        """The caller's consents; ``analytics_allowed`` says whether analytics may load."""
        subject, kind = _subject(user, request, response, create=False)
        state = await consents.consent_state(session, subject, kind) if subject else {}
        return consents.state_view(kind, state)

    @api.put("/consents/{purpose}")
    async def put_consent(purpose: str, body: ConsentBody, request: Request, response: Response,
                          user: MaybeUser, session: Session) -> dict[str, Any]:
        """Grant or withdraw one purpose; anonymous visitors get a consent-id cookie."""
        if purpose not in TOGGLEABLE:
            raise Problem(404, "unknown-purpose", "Unknown purpose",
                          f"Consent purposes are: {', '.join(sorted(TOGGLEABLE))}.")
        if user is not None:
            # An old cookie of an erased account must not recreate its consent rows.
            await refuse_if_erased(session, user.user_id)
        subject, kind = _subject(user, request, response, create=True)
        assert subject is not None
        client = str(subject) if kind == "user" else (
            request.client.host if request.client else "unknown")
        # The ledger is append-only: a flood of toggles must not grow it without bound.
        await request.app.state.limiter.hit("privacy-consent", client, "60/minute")
        await consents.record_consent(session, subject, kind, purpose, body.granted,
                                      "cookie-banner" if kind == "anonymous" else "account")
        return consents.state_view(kind, await consents.consent_state(session, subject, kind))

    @api.post("/consents/link")
    async def link(request: Request, user: CurrentUserAnyPolicy, container: Container,
                   session: Session) -> dict[str, Any]:
        """Link this browser's anonymous consent id to the signed-in user."""
        await refuse_if_erased(session, user.user_id)
        anonymous = consent_cookie(request)
        if anonymous is None:
            raise Problem(422, "no-consent-cookie", "No consent cookie",
                          "This browser has no anonymous consent id to link.")
        taken = await consents.link_anonymous(session, anonymous, user.user_id,
                                              container.consent_id_secret)
        state = await consents.consent_state(session, user.user_id, "user")
        return {**consents.state_view("user", state), "linked_purposes": taken}

    @api.get("/consents/marketing/withdraw", response_class=HTMLResponse)
    async def confirm_withdrawal(user: uuid.UUID, sig: str, container: Container) -> HTMLResponse:
        """The page a marketing mail's link opens: one button, no change yet (mail scanners
        follow links; only the POST withdraws)."""
        marketing.check_link(user, sig, container.link_secret)
        return HTMLResponse(withdrawal_page(user, sig), headers=PAGE_HEADERS)

    @api.post("/consents/marketing/withdraw")
    async def withdraw_marketing(user: uuid.UUID, sig: str, container: Container,
                                 session: Session) -> dict[str, Any]:
        """Withdraw marketing consent without signing in: the page's button, or the mail
        client's RFC 8058 one-click POST (``List-Unsubscribe-Post``)."""
        changed = await marketing.withdraw_by_link(session, user, sig, container.link_secret)
        return {"purpose": Purpose.MARKETING, "granted": False, "changed": changed}


PAGE_HEADERS = {"Content-Security-Policy": "default-src 'none'; form-action 'self'",
                "X-Frame-Options": "DENY", "Cache-Control": "no-store"}


def withdrawal_page(user: uuid.UUID, sig: str) -> str:
    """One button that withdraws marketing consent (the values are a UUID and hex)."""
    action = f"/v1/privacy/consents/marketing/withdraw?user={user}&sig={escape(sig, quote=True)}"
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>Unsubscribe</title></head>"
        "<body><h1>Stop marketing mails from AIFLUX?</h1>"
        f"<form method='post' action='{action}'>"
        "<button type='submit'>Unsubscribe</button></form>"
        "<p>Service mails (security, receipts, your requests) are not affected.</p>"
        "</body></html>")


def _request_routes(api: APIRouter) -> None:
    @api.post("/requests", status_code=202)
    async def file_request(body: RequestBody, user: CurrentUserAnyPolicy, request: Request,
                           session: Session) -> dict[str, Any]:
        """File a request of §7; its outcome starts at once where the services carry it out."""
        await request.app.state.limiter.hit("privacy-request", str(user.user_id), "20/hour")
        await refuse_if_erased(session, user.user_id)
        row = await requests.file_request(session, user.user_id, body.type, body.details)
        answer = {"id": str(row.id), "status": row.status, "due_at": row.due_at,
                  "type": row.type}
        if row.type == RequestType.ERASURE:
            # The session ends with the account: the link lets the user follow the erasure.
            token = await status_link.issue_status_token(session, row.id)
            answer["status_url"] = status_link.status_url(
                request.app.state.services["privacy"].settings.public_url, row.id, token)
        return answer

    @api.get("/requests/{request_id}/status")
    async def request_status(request_id: uuid.UUID, request: Request, response: Response,
                             session: Session,
                             token: str = Query(min_length=1, max_length=200)
                             ) -> dict[str, Any]:
        """An erasure's status link (no session: the account is gone): status, per-service
        progress, due date and outcome. An unknown id or a wrong token answer "pending", like a
        request privacy has not heard of yet."""
        client = request.client.host if request.client else "unknown"
        await request.app.state.limiter.hit("privacy-status-link", client, "60/minute")
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
        return await status_link.public_status(session, request_id, token)

    @api.get("/requests")
    async def list_requests(user: CurrentUserAnyPolicy, session: Session) -> dict[str, Any]:
        """The caller's requests, newest first."""
        rows = await requests.list_requests(session, user.user_id)
        return {"items": [request_view(r) for r in rows], "next_cursor": None}

    @api.get("/requests/{request_id}")
    async def get_request(request_id: uuid.UUID, user: CurrentUserAnyPolicy,
                          session: Session) -> dict[str, Any]:
        """Status, due date, per-service progress and outcome of one request."""
        row = await requests.load_request(session, request_id, user_id=user.user_id)
        return request_view(row, await requests.load_steps(session, request_id))

    @api.get("/requests/{request_id}/download")
    async def download(request_id: uuid.UUID, user: CurrentUserAnyPolicy,
                       container: Container, session: Session) -> RedirectResponse:
        """Redirect to a short-lived signed URL of the export archive."""
        row = await requests.load_request(session, request_id, user_id=user.user_id)
        if row.type not in EXPORT_TYPES:
            raise Problem(409, "not-an-export", "No archive",
                          "Only access and portability requests have an archive.")
        if row.status != Status.COMPLETED or row.archive_expires_at is None:
            raise Problem(409, "export-not-ready", "Export not ready",
                          "The archive is still being prepared; you will get a mail.")
        if row.archive_expires_at < datetime.now(UTC):
            raise Problem(410, "export-expired", "Export expired",
                          "Archives are kept for 7 days; please file a new request.")
        signed = await container.storage.archive_url(request_id)
        return RedirectResponse(signed["url"], status_code=307)
