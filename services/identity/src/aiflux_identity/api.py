"""HTTP routes of the identity service: parse, call a handler, return."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from typing import Annotated, Any

from aiflux_kit.auth import CurrentUser, CurrentUserAnyPolicy, session_cookie_name, token_hash
from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from .handlers import account, recovery, registration, sessions
from .handlers.common import ClientInfo, IdentityContainer
from .routes_internal import internal_router
from .routes_ops import ops_router


def container(request: Request) -> IdentityContainer:
    """The identity container of this app."""
    found: IdentityContainer = request.app.state.services["identity"]
    return found


def client_info(request: Request) -> ClientInfo:
    """The caller's IP (through the configured number of trusted proxies) and user agent."""
    hops = container(request).settings.trusted_proxy_hops
    ip = request.client.host if request.client else None
    forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",")
                 if p.strip()]
    if hops and len(forwarded) >= hops:
        ip = forwarded[-hops]
    return ClientInfo(ip=ip, user_agent=request.headers.get("user-agent"))


def presented_session_hash(request: Request) -> str | None:
    """The hash of the session token the caller presents (bearer or this deployment's cookie),
    unchecked: used only to spare the caller's own session when the others are ended."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        token = auth[7:].strip()
        return token_hash(token) if token else None
    name = str(getattr(request.app.state, "session_cookie", "")
               or session_cookie_name(container(request).settings.public_url))
    cookie = request.cookies.get(name)
    return token_hash(cookie) if cookie else None


Identity = Annotated[IdentityContainer, Depends(container)]
Client = Annotated[ClientInfo, Depends(client_info)]

Secret = Annotated[str, Field(min_length=1, max_length=1024)]


class RegisterBody(BaseModel):
    """``POST /v1/auth/register``."""

    username: str = Field(max_length=64)
    email: str = Field(max_length=320)
    password: Secret
    birth_date: date
    accept_privacy_policy_version: str = Field(max_length=64)
    marketing_opt_in: bool = False
    anonymous_consent_id: uuid.UUID | None = None


class TokenBody(BaseModel):
    """A token from a mailed link."""

    token: Secret


class LoginBody(BaseModel):
    """``POST /v1/auth/login``: username or email."""

    login: str = Field(min_length=1, max_length=320)
    password: Secret


class ForgotBody(BaseModel):
    """``POST /v1/auth/password/forgot`` and ``/verify-email/resend``."""

    email: str = Field(max_length=320)


class ResetBody(BaseModel):
    """``POST /v1/auth/password/reset``."""

    token: Secret
    new_password: Secret


class RectifyBody(BaseModel):
    """``PATCH /v1/account``."""

    username: str | None = Field(default=None, max_length=64)
    email: str | None = Field(default=None, max_length=320)
    current_password: Secret


class PasswordChangeBody(BaseModel):
    """``POST /v1/account/password``."""

    current_password: Secret
    new_password: Secret


class PasswordBody(BaseModel):
    """``DELETE /v1/account``."""

    password: Secret


class PolicyAcceptanceBody(BaseModel):
    """``POST /v1/account/policy-acceptance``."""

    version: str = Field(max_length=64)


CONSENT_COOKIE = "aiflux_consent_id"  # the privacy service's anonymous consent id


def _consent_cookie(request: Request) -> uuid.UUID | None:
    """The visitor's anonymous consent id, so privacy can link the cookie-banner choices."""
    try:
        return uuid.UUID(request.cookies.get(CONSENT_COOKIE, ""))
    except ValueError:
        return None


REGISTERED = {"status": "accepted",
              "detail": "If the address can be used, a verification link is on its way."}


def auth_routes() -> APIRouter:
    """Registration, verification, login, logout and password reset."""
    router = APIRouter(prefix="/v1/auth", tags=["identity"])

    @router.post("/register", status_code=202)
    async def register(body: RegisterBody, request: Request, c: Identity,
                       client: Client) -> dict[str, str]:
        """Create an account; the same answer whether or not the address is registered."""
        form = registration.Registration(**body.model_dump())
        if form.anonymous_consent_id is None:
            form = replace(form, anonymous_consent_id=_consent_cookie(request))
        await registration.register(c, form, client)
        return REGISTERED

    @router.post("/verify-email")
    async def verify_email(body: TokenBody, request: Request, c: Identity,
                           client: Client) -> dict[str, str]:
        """Confirm an address with the mailed token (a new address ends the other sessions)."""
        await registration.verify_email(c, body.token, client,
                                        keep_session_hash=presented_session_hash(request))
        return {"status": "verified"}

    @router.post("/verify-email/resend", status_code=202)
    async def resend(body: ForgotBody, c: Identity, client: Client) -> dict[str, str]:
        """Mail a new verification link to an unverified account (always 202)."""
        await registration.resend_verification(c, body.email, client)
        return {"status": "accepted",
                "detail": "If the address awaits verification, a new link is on its way."}

    @router.post("/login")
    async def login(body: LoginBody, response: Response, c: Identity,
                    client: Client) -> dict[str, Any]:
        """Open a session: the cookie, and the CSRF token for state changes."""
        signed = await sessions.login(c, body.login, body.password, client)
        s = c.settings
        response.set_cookie(session_cookie_name(s.public_url), signed.session_token,
                            max_age=s.session_absolute_timeout_s, path="/", httponly=True,
                            secure=s.secure_cookies, samesite=s.cookie_samesite)
        return {"user_id": signed.user_id, "csrf_token": signed.csrf_token}

    @router.post("/logout", status_code=204)
    async def logout(user: CurrentUserAnyPolicy, response: Response, c: Identity,
                     client: Client) -> Response:
        """End this session."""
        await sessions.logout(c, user, client)
        s = c.settings
        out = Response(status_code=204)
        out.delete_cookie(session_cookie_name(s.public_url), path="/", httponly=True,
                          secure=s.secure_cookies, samesite=s.cookie_samesite)
        return out

    @router.post("/password/forgot", status_code=202)
    async def forgot(body: ForgotBody, c: Identity, client: Client) -> dict[str, str]:
        """Mail a reset link if the address has an account (always 202)."""
        await recovery.forgot_password(c, body.email, client)
        return {"status": "accepted",
                "detail": "If the address has an account, a reset link is on its way."}

    @router.post("/password/reset")
    async def reset(body: ResetBody, c: Identity, client: Client) -> dict[str, str]:
        """Set a new password with the mailed token; every session ends (log in again)."""
        await recovery.reset_password(c, body.token, body.new_password, client)
        return {"status": "password-changed"}

    return router


def account_routes() -> APIRouter:
    """The caller's own account."""
    router = APIRouter(prefix="/v1/account", tags=["identity"])

    @router.get("")
    async def get_account(user: CurrentUserAnyPolicy, c: Identity) -> dict[str, Any]:
        """The profile."""
        return await account.profile(c, user.user_id)

    @router.patch("")
    async def patch_account(body: RectifyBody, user: CurrentUser, c: Identity,
                            client: Client) -> dict[str, Any]:
        """Rectification: a new username now, a new address once confirmed."""
        await account.rectify(c, user, body.username, body.email, body.current_password,
                              client)
        return await account.profile(c, user.user_id)

    @router.delete("", status_code=202)
    async def delete_account(body: PasswordBody, user: CurrentUserAnyPolicy, c: Identity,
                             client: Client) -> dict[str, Any]:
        """Delete the account: disabled at once, erased everywhere by the cascade.

        ``status_url`` (no session needed, keep it private) shows the erasure's progress.
        """
        started = await account.delete_account(c, user, body.password, client)
        return {"request_id": started.request_id, "status_url": started.status_url}

    @router.post("/password", status_code=204)
    async def change_password(body: PasswordChangeBody, user: CurrentUser, c: Identity,
                              client: Client) -> Response:
        """Change the password; every other session ends."""
        await recovery.change_password(c, user, body.current_password, body.new_password,
                                       client)
        return Response(status_code=204)

    @router.post("/policy-acceptance")
    async def accept_policy(body: PolicyAcceptanceBody, user: CurrentUserAnyPolicy,
                            c: Identity, client: Client) -> dict[str, str]:
        """Accept the current privacy-policy version."""
        await account.accept_policy(c, user, body.version, client)
        return {"accepted_policy_version": body.version}

    @router.get("/sessions")
    async def list_sessions(user: CurrentUserAnyPolicy, c: Identity) -> dict[str, Any]:
        """The live sessions of the account."""
        return {"items": await sessions.list_sessions(c, user), "next_cursor": None}

    @router.delete("/sessions/{session_id}", status_code=204)
    async def revoke_session(session_id: uuid.UUID, user: CurrentUserAnyPolicy, c: Identity,
                             client: Client) -> Response:
        """End one session."""
        await sessions.revoke_session(c, user, session_id, client)
        return Response(status_code=204)

    return router


def build_router(trusted_callers: dict[str, str]) -> APIRouter:
    """Every route of the identity service."""
    router = APIRouter()
    router.include_router(auth_routes())
    router.include_router(account_routes())
    router.include_router(ops_router())
    router.include_router(internal_router(trusted_callers))
    return router
