"""Public routes of the identity service (``/v1/auth/...``, ``/v1/account/...``): parse, call a
handler, return."""

from __future__ import annotations

import uuid
from dataclasses import replace

from aiflux_kit.auth import CurrentUser, CurrentUserAnyPolicy, session_cookie_name, token_hash
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Request, Response

from ..bootstrap import Client, Container, IdentityContainer
from ..handlers import account, recovery, registration, sessions
from ..schemas import (
    Accepted,
    EmailBody,
    ErasureStarted,
    LoginAnswer,
    LoginBody,
    PasswordBody,
    PasswordChangeBody,
    PolicyAcceptance,
    PolicyAcceptanceBody,
    Profile,
    RectifyBody,
    RegisterBody,
    ResetBody,
    SessionList,
    SessionView,
    StatusAnswer,
    TokenBody,
)

router = APIRouter(tags=["identity"])

CONSENT_COOKIE = "aiflux_consent_id"  # the privacy service's anonymous consent id

# Every body route: 413 (body limit), 422 (invalid body), 503 (database down).
BODY = (413, 422, 503)
SIGNED_IN = (401, 403)


def presented_session_hash(request: Request, c: IdentityContainer) -> str | None:
    """The hash of the session token the caller presents (bearer or this deployment's cookie),
    unchecked: used only to spare the caller's own session when the others are ended."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        return token_hash(token) if token else None
    name = str(getattr(request.app.state, "session_cookie", "") or session_cookie_name(c.settings.public_url))
    cookie = request.cookies.get(name)
    return token_hash(cookie) if cookie else None


def consent_cookie(request: Request) -> uuid.UUID | None:
    """The visitor's anonymous consent id, so privacy can link the cookie-banner choices."""
    try:
        return uuid.UUID(request.cookies.get(CONSENT_COOKIE, ""))
    except ValueError:
        return None


@router.post(
    "/v1/auth/register",
    status_code=202,
    response_model=Accepted,
    summary="Register an account",
    responses=problem_responses(403, 409, 429, *BODY),
)
async def register(body: RegisterBody, request: Request, c: Container, client: Client) -> Accepted:
    """Create an account; the same answer whether or not the address is registered."""
    form = registration.Registration(**body.model_dump())
    if form.anonymous_consent_id is None:
        form = replace(form, anonymous_consent_id=consent_cookie(request))
    await registration.register(c, form, client)
    return Accepted(
        status="accepted", detail="If the address can be used, a verification link is on its way."
    )


@router.post(
    "/v1/auth/verify-email",
    response_model=StatusAnswer,
    summary="Confirm an address with a mailed token",
    responses=problem_responses(400, 409, 429, *BODY),
)
async def verify_email(body: TokenBody, request: Request, c: Container, client: Client) -> StatusAnswer:
    """Confirm an address with the mailed token (a new address ends the other sessions)."""
    await registration.verify_email(
        c, body.token, client, keep_session_hash=presented_session_hash(request, c)
    )
    return StatusAnswer(status="verified")


@router.post(
    "/v1/auth/verify-email/resend",
    status_code=202,
    response_model=Accepted,
    summary="Mail a new verification link",
    responses=problem_responses(429, *BODY),
)
async def resend(body: EmailBody, c: Container, client: Client) -> Accepted:
    """Mail a new verification link to an unverified account (always 202)."""
    await registration.resend_verification(c, body.email, client)
    return Accepted(status="accepted", detail="If the address awaits verification, a new link is on its way.")


@router.post(
    "/v1/auth/login",
    response_model=LoginAnswer,
    summary="Log in",
    responses=problem_responses(401, 403, 429, *BODY),
)
async def login(body: LoginBody, response: Response, c: Container, client: Client) -> LoginAnswer:
    """Open a session: the cookie, and the CSRF token for state changes."""
    signed = await sessions.login(c, body.login, body.password, client)
    s = c.settings
    response.set_cookie(
        session_cookie_name(s.public_url),
        signed.session_token,
        max_age=s.session_absolute_timeout_s,
        path="/",
        httponly=True,
        secure=s.secure_cookies,
        samesite=s.cookie_samesite,
    )
    return LoginAnswer(user_id=signed.user_id, csrf_token=signed.csrf_token)


@router.post(
    "/v1/auth/logout",
    status_code=204,
    response_class=Response,
    summary="Log out",
    responses=problem_responses(*SIGNED_IN, 503),
)
async def logout(user: CurrentUserAnyPolicy, c: Container, client: Client) -> Response:
    """End this session (and clear its cookie)."""
    await sessions.logout(c, user, client)
    s = c.settings
    out = Response(status_code=204)
    out.delete_cookie(
        session_cookie_name(s.public_url),
        path="/",
        httponly=True,
        secure=s.secure_cookies,
        samesite=s.cookie_samesite,
    )
    return out


@router.post(
    "/v1/auth/password/forgot",
    status_code=202,
    response_model=Accepted,
    summary="Mail a password-reset link",
    responses=problem_responses(429, *BODY),
)
async def forgot(body: EmailBody, c: Container, client: Client) -> Accepted:
    """Mail a reset link if the address has an account (always 202)."""
    await recovery.forgot_password(c, body.email, client)
    return Accepted(status="accepted", detail="If the address has an account, a reset link is on its way.")


@router.post(
    "/v1/auth/password/reset",
    response_model=StatusAnswer,
    summary="Set a new password with a mailed token",
    responses=problem_responses(400, 429, *BODY),
)
async def reset(body: ResetBody, c: Container, client: Client) -> StatusAnswer:
    """Set a new password with the mailed token; every session ends (log in again)."""
    await recovery.reset_password(c, body.token, body.new_password, client)
    return StatusAnswer(status="password-changed")


@router.get(
    "/v1/account",
    response_model=Profile,
    summary="The caller's profile",
    responses=problem_responses(*SIGNED_IN, 404, 503),
)
async def get_account(user: CurrentUserAnyPolicy, c: Container) -> Profile:
    """What the account holds about the caller."""
    return Profile.model_validate(await account.profile(c, user.user_id))


@router.patch(
    "/v1/account",
    response_model=Profile,
    summary="Rectify the account",
    responses=problem_responses(*SIGNED_IN, 404, 409, 429, *BODY),
)
async def patch_account(body: RectifyBody, user: CurrentUser, c: Container, client: Client) -> Profile:
    """Rectification: a new username now, a new address once confirmed."""
    await account.rectify(c, user, body.username, body.email, body.current_password, client)
    return Profile.model_validate(await account.profile(c, user.user_id))


@router.delete(
    "/v1/account",
    status_code=202,
    response_model=ErasureStarted,
    summary="Delete the account",
    responses=problem_responses(*SIGNED_IN, 429, *BODY),
)
async def delete_account(
    body: PasswordBody, user: CurrentUserAnyPolicy, c: Container, client: Client
) -> ErasureStarted:
    """Delete the account: disabled at once, erased everywhere by the cascade.

    ``status_url`` (no session needed, keep it private) shows the erasure's progress.
    """
    started = await account.delete_account(c, user, body.password, client)
    return ErasureStarted(request_id=started.request_id, status_url=started.status_url)


@router.post(
    "/v1/account/password",
    status_code=204,
    response_class=Response,
    summary="Change the password",
    responses=problem_responses(*SIGNED_IN, 429, *BODY),
)
async def change_password(
    body: PasswordChangeBody, user: CurrentUser, c: Container, client: Client
) -> Response:
    """Change the password; every other session ends."""
    await recovery.change_password(c, user, body.current_password, body.new_password, client)
    return Response(status_code=204)


@router.post(
    "/v1/account/policy-acceptance",
    response_model=PolicyAcceptance,
    summary="Accept a privacy-policy version",
    responses=problem_responses(*SIGNED_IN, *BODY),
)
async def accept_policy(
    body: PolicyAcceptanceBody, user: CurrentUserAnyPolicy, c: Container, client: Client
) -> PolicyAcceptance:
    """Accept the privacy-policy version in force (or a scheduled one)."""
    await account.accept_policy(c, user, body.version, client)
    return PolicyAcceptance(accepted_policy_version=body.version)


@router.get(
    "/v1/account/sessions",
    response_model=SessionList,
    summary="The account's live sessions",
    responses=problem_responses(*SIGNED_IN, 503),
)
async def list_sessions(user: CurrentUserAnyPolicy, c: Container) -> SessionList:
    """The live sessions of the account, newest first."""
    live = await sessions.list_sessions(c, user)
    return SessionList(items=[SessionView.model_validate(s) for s in live], next_cursor=None)


@router.delete(
    "/v1/account/sessions/{session_id}",
    status_code=204,
    response_class=Response,
    summary="End one session",
    responses=problem_responses(*SIGNED_IN, 404, 422, 503),
)
async def revoke_session(
    session_id: uuid.UUID, user: CurrentUserAnyPolicy, c: Container, client: Client
) -> Response:
    """End one of the caller's sessions."""
    await sessions.revoke_session(c, user, session_id, client)
    return Response(status_code=204)
