"""Public routes under /v1/privacy: policy, processors, retention, consents, requests, minor
reports, and the one-click marketing withdrawal page."""

from __future__ import annotations

import uuid
from typing import Any

from aiflux_kit.auth import CurrentUserAnyPolicy
from aiflux_kit.erasure import refuse_if_erased
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from ..bootstrap import ClientAddress, ConsentCookie, Container, MaybeUser, Session
from ..domain.catalog import processors, retention_rules
from ..domain.consent import TOGGLEABLE, Purpose
from ..domain.consent_id import issue_consent_id
from ..domain.errors import NoConsentCookie, UnknownPurpose
from ..handlers import consents, marketing, minors, policy, requests, status_link
from ..handlers.consents import SubjectKind
from ..handlers.views import request_view
from ..schemas import (
    ConsentBody,
    ConsentState,
    ErasureStatus,
    FileRequestBody,
    LinkedConsentState,
    MarketingWithdrawn,
    MinorReportBody,
    MinorReportFiled,
    Page,
    PolicyDocument,
    PolicySummary,
    Processor,
    RequestFiled,
    RequestView,
    RetentionRule,
)

router = APIRouter(prefix="/v1/privacy", tags=["privacy"])

COOKIE_MAX_AGE = 60 * 60 * 24 * 365
USER = problem_responses(401, 403, 410, 422, 503)
"""What a signed-in user's route can answer besides its own refusals."""


@router.get("/policy", response_model=PolicyDocument, responses=problem_responses(404, 503))
async def current_policy(session: Session) -> dict[str, Any]:
    """The privacy-policy version in force."""
    return policy.version_view(await policy.current_policy(session), "in_force")


@router.get("/policy/versions", response_model=Page[PolicySummary], responses=problem_responses(503))
async def policy_versions(session: Session) -> dict[str, Any]:
    """Every published version, newest first: scheduled, in force or superseded."""
    rows = await policy.all_versions(session)
    return {
        "items": [policy.version_view(r, status, with_text=False) for r, status in rows],
        "next_cursor": None,
    }


@router.get("/processors", response_model=Page[Processor])
async def processor_registry() -> dict[str, Any]:
    """The processors of §6: purpose, data categories, country, transfer basis."""
    return {"items": processors(), "next_cursor": None}


@router.get("/retention", response_model=Page[RetentionRule])
async def retention() -> dict[str, Any]:
    """The retention rules of §5 with owner service, period, trigger, action and sweep."""
    return {"items": retention_rules(), "next_cursor": None}


@router.post(
    "/minor-reports",
    status_code=202,
    response_model=MinorReportFiled,
    responses=problem_responses(422, 429, 503),
)
async def report_minor(
    body: MinorReportBody, request: Request, client: ClientAddress, session: Session
) -> dict[str, Any]:
    """Anyone may report an account as belonging to someone under 16 (§8)."""
    await request.app.state.limiter.hit("privacy-minor-report", client, "10/hour")
    report_id = await minors.report(session, body.account, body.details)
    return {"id": report_id, "status": "open"}


def _subject(
    user: MaybeUser, cookie: uuid.UUID | None, container: Container, response: Response, create: bool
) -> tuple[uuid.UUID | None, SubjectKind]:
    """Whose consents these are: the signed-in user, or the visitor of the consent cookie
    (issued now when ``create`` and the browser has none)."""
    if user is not None:
        return user.user_id, "user"
    if cookie is None and create:
        # Only ids privacy issued (signed) are accepted back: a client cannot choose its own.
        cookie = issue_consent_id(container.consent_id_secret)
    if cookie is not None:
        settings = container.settings
        # Behind the TLS-terminating ingress the request looks like http: trust the public URL.
        response.set_cookie(
            settings.consent_cookie,
            str(cookie),
            max_age=COOKIE_MAX_AGE,
            httponly=True,
            samesite="lax",
            secure=settings.public_url.startswith("https://"),
        )
    return cookie, "anonymous"


@router.get("/consents", response_model=ConsentState, responses=problem_responses(401, 403, 503))
async def get_consents(
    response: Response, user: MaybeUser, cookie: ConsentCookie, container: Container, session: Session
) -> dict[str, Any]:
    """The caller's consents; ``analytics_allowed`` says whether analytics may load."""
    subject, kind = _subject(user, cookie, container, response, create=False)
    state = await consents.consent_state(session, subject, kind) if subject else {}
    return consents.state_view(kind, state)


@router.put(
    "/consents/{purpose}",
    response_model=ConsentState,
    responses=problem_responses(401, 403, 404, 410, 422, 429, 503),
)
async def put_consent(
    purpose: str,
    body: ConsentBody,
    request: Request,
    response: Response,
    user: MaybeUser,
    cookie: ConsentCookie,
    client: ClientAddress,
    container: Container,
    session: Session,
) -> dict[str, Any]:
    """Grant or withdraw one purpose; anonymous visitors get a consent-id cookie."""
    if purpose not in TOGGLEABLE:
        raise UnknownPurpose(f"Consent purposes are: {', '.join(sorted(TOGGLEABLE))}.")
    if user is not None:
        # An old cookie of an erased account must not recreate its consent rows.
        await refuse_if_erased(session, user.user_id)
    subject, kind = _subject(user, cookie, container, response, create=True)
    assert subject is not None
    # The ledger is append-only: a flood of toggles must not grow it without bound.
    await request.app.state.limiter.hit(
        "privacy-consent", str(subject) if kind == "user" else client, "60/minute"
    )
    await consents.record_consent(
        session, subject, kind, purpose, body.granted, "cookie-banner" if kind == "anonymous" else "account"
    )
    return consents.state_view(kind, await consents.consent_state(session, subject, kind))


@router.post("/consents/link", response_model=LinkedConsentState, responses=USER)
async def link(
    user: CurrentUserAnyPolicy, cookie: ConsentCookie, container: Container, session: Session
) -> dict[str, Any]:
    """Link this browser's anonymous consent id to the signed-in user."""
    await refuse_if_erased(session, user.user_id)
    if cookie is None:
        raise NoConsentCookie("This browser has no anonymous consent id to link.")
    taken = await consents.link_anonymous(session, cookie, user.user_id, container.consent_id_secret)
    state = await consents.consent_state(session, user.user_id, "user")
    return {**consents.state_view("user", state), "linked_purposes": taken}


PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@router.get(
    "/consents/marketing/withdraw",
    response_class=HTMLResponse,
    responses={
        200: {
            "description": "The withdrawal page (text/html): one button.",
            "content": {"text/html": {"schema": {"type": "string"}}},
        },
        **problem_responses(403, 422),
    },
)
async def confirm_withdrawal(user: uuid.UUID, sig: str, container: Container) -> HTMLResponse:
    """The page a marketing mail's link opens: one button, no change yet (mail scanners
    follow links; only the POST withdraws)."""
    marketing.check_link(user, sig, container.link_secret)
    return HTMLResponse(marketing.withdrawal_page(user, sig), headers=PAGE_HEADERS)


@router.post(
    "/consents/marketing/withdraw",
    response_model=MarketingWithdrawn,
    responses=problem_responses(403, 422, 503),
)
async def withdraw_marketing(
    user: uuid.UUID, sig: str, container: Container, session: Session
) -> dict[str, Any]:
    """Withdraw marketing consent without signing in: the page's button, or the mail
    client's RFC 8058 one-click POST (``List-Unsubscribe-Post``)."""
    changed = await marketing.withdraw_by_link(session, user, sig, container.link_secret)
    return {"purpose": Purpose.MARKETING.value, "granted": False, "changed": changed}


@router.post(
    "/requests",
    status_code=202,
    response_model=RequestFiled,
    response_model_exclude_unset=True,
    responses={**USER, **problem_responses(409, 429)},
)
async def file_request(
    body: FileRequestBody,
    user: CurrentUserAnyPolicy,
    request: Request,
    container: Container,
    session: Session,
) -> dict[str, Any]:
    """File a request of §7; its outcome starts at once where the services carry it out."""
    await request.app.state.limiter.hit("privacy-request", str(user.user_id), "20/hour")
    await refuse_if_erased(session, user.user_id)
    row = await requests.file_request(session, user.user_id, body.type, body.details)
    answer: dict[str, Any] = {"id": row.id, "status": row.status, "due_at": row.due_at, "type": row.type}
    # The session ends with the account: the link lets the user follow the erasure.
    url = await status_link.link_for_erasure(session, row, container.settings.public_url)
    return answer if url is None else {**answer, "status_url": url}


@router.get(
    "/requests/{request_id}/status", response_model=ErasureStatus, responses=problem_responses(422, 429, 503)
)
async def request_status(
    request_id: uuid.UUID,
    request: Request,
    response: Response,
    client: ClientAddress,
    session: Session,
    token: str = Query(min_length=1, max_length=200),
) -> dict[str, Any]:
    """An erasure's status link (no session: the account is gone): status, per-service
    progress, due date and outcome. An unknown id or a wrong token answer "pending", like a
    request privacy has not heard of yet."""
    await request.app.state.limiter.hit("privacy-status-link", client, "60/minute")
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return await status_link.public_status(session, request_id, token)


@router.get(
    "/requests",
    response_model=Page[RequestView],
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 503),
)
async def list_requests(user: CurrentUserAnyPolicy, session: Session) -> dict[str, Any]:
    """The caller's requests, newest first."""
    rows = await requests.list_requests(session, user.user_id)
    return {"items": [request_view(r) for r in rows], "next_cursor": None}


@router.get(
    "/requests/{request_id}",
    response_model=RequestView,
    response_model_exclude_unset=True,
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_request(request_id: uuid.UUID, user: CurrentUserAnyPolicy, session: Session) -> dict[str, Any]:
    """Status, due date, per-service progress and outcome of one request."""
    row = await requests.load_request(session, request_id, user_id=user.user_id)
    return request_view(row, await requests.load_steps(session, request_id))


@router.get(
    "/requests/{request_id}/download",
    response_class=RedirectResponse,
    status_code=307,
    responses={
        307: {"description": "Redirect to a short-lived signed URL of the archive (application/zip)."},
        **problem_responses(401, 403, 404, 409, 410, 422, 503),
    },
)
async def download(
    request_id: uuid.UUID, user: CurrentUserAnyPolicy, container: Container, session: Session
) -> RedirectResponse:
    """Redirect to a short-lived signed URL of the export archive."""
    url = await requests.archive_url(session, container.storage, request_id, user.user_id)
    return RedirectResponse(url, status_code=307)
