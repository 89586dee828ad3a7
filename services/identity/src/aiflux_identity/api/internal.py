"""Internal routes (not exposed by the ingress): introspection and suspension, each open only to
the services that need it."""

from __future__ import annotations

import uuid
from typing import Any, cast

from aiflux_kit.auth import token_hash
from aiflux_kit.errors import not_found
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Depends, Request, params

from ..bootstrap import Container
from ..handlers import account
from ..handlers.sessions import read_session
from ..schemas import IntrospectBody, Introspection, StatusAnswer, SuspendBody

EVERY_SERVICE = ("identity", "billing", "generation", "storage", "privacy")

router = APIRouter(prefix="/internal/identity", tags=["identity internal"])


def open_to(*callers: str) -> Any:
    """A dependency admitting only ``callers`` (their keys come from the settings, per app)."""

    async def guard(request: Request, c: Container) -> str:
        if c.internal_auth is None:
            raise RuntimeError("identity built without internal auth")
        check = cast(params.Depends, c.internal_auth.require(*callers)).dependency
        if check is None:
            raise RuntimeError("the kit's guard has no dependency")
        caller: str = await check(request)
        return caller

    return Depends(guard)


@router.post(
    "/sessions/introspect",
    response_model=Introspection,
    dependencies=[open_to(*EVERY_SERVICE)],
    summary="Who owns a session token",
    responses=problem_responses(403, 404, 413, 422, 503),
)
async def introspect(body: IntrospectBody, c: Container) -> Introspection:
    """Who owns the session token (404 when unknown, expired or revoked). Read from the
    database, never from a cache: the caller caches the answer itself, and may be asking
    because a broadcast told it to forget (this replica may not have heard it yet)."""
    found = await read_session(c, token_hash(body.session_token))
    if found is None:
        raise not_found("session")
    principal, _ = found
    return Introspection(
        user_id=principal.user_id,
        csrf_token_hash=principal.csrf_token_hash,
        roles=sorted(principal.roles),
        policy_accepted=principal.policy_accepted,
    )


@router.post(
    "/users/{user_id}/suspend",
    response_model=StatusAnswer,
    dependencies=[open_to("privacy")],
    summary="Suspend an account",
    responses=problem_responses(403, 404, 413, 422, 503),
)
async def suspend(user_id: uuid.UUID, body: SuspendBody, c: Container) -> StatusAnswer:
    """Suspend an account (privacy: reported minors)."""
    await account.suspend(c, user_id, body.reason)
    return StatusAnswer(status="suspended")
