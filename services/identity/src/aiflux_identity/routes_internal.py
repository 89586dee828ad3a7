"""Internal routes (not exposed by the ingress): introspection and suspension."""

from __future__ import annotations

import uuid
from typing import Any

from aiflux_kit.auth import InternalAuth
from aiflux_kit.errors import not_found
from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from .handlers import account
from .handlers.sessions import DbSessionVerifier

CALLERS = ("identity", "billing", "generation", "storage", "privacy")


class IntrospectBody(BaseModel):
    """The session token a service was shown."""

    session_token: str = Field(min_length=1, max_length=1024)


class SuspendBody(BaseModel):
    """Why the account is suspended (no personal data)."""

    reason: str = Field(min_length=1, max_length=200)


def internal_router(trusted_callers: dict[str, str]) -> APIRouter:
    """``/internal/identity/...``, each route open to the callers that need it."""
    guard = InternalAuth("identity", trusted_callers)
    router = APIRouter(prefix="/internal/identity", tags=["identity internal"])

    @router.post("/sessions/introspect", dependencies=[guard.require(*CALLERS)])
    async def introspect(body: IntrospectBody, request: Request) -> dict[str, Any]:
        """Who owns the session token (404 when unknown, expired or revoked)."""
        principal = await DbSessionVerifier(request.app.state.services["identity"]).verify(
            body.session_token)
        if principal is None:
            raise not_found("session")
        return {"user_id": principal.user_id, "csrf_token_hash": principal.csrf_token_hash,
                "roles": sorted(principal.roles), "policy_accepted": principal.policy_accepted}

    @router.post("/users/{user_id}/suspend", dependencies=[guard.require("privacy")])
    async def suspend(user_id: uuid.UUID, body: SuspendBody, request: Request) -> dict[str, str]:
        """Suspend an account (privacy: reported minors)."""
        await account.suspend(request.app.state.services["identity"], user_id, body.reason)
        return {"status": "suspended"}

    return router
