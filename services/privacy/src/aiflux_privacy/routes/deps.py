"""Dependencies shared by the privacy routes."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Annotated

from aiflux_kit.auth import Principal, current_user_any_policy
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..container import PrivacyContainer
from ..domain.consent_id import parse_consent_id


def container(request: Request) -> PrivacyContainer:
    """The privacy service's container."""
    found: PrivacyContainer = request.app.state.services["privacy"]
    return found


async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    async with container(request).database.transaction() as session:
        yield session


async def optional_user(request: Request) -> Principal | None:
    """The signed-in caller, or None for an anonymous visitor (no session presented)."""
    presented = request.headers.get("authorization", "").lower().startswith("bearer ") or any(
        name in request.cookies for name in ("__Host-aiflux_session", "aiflux_session"))
    if not presented:
        return None
    return await current_user_any_policy(request)


def consent_cookie(request: Request) -> uuid.UUID | None:
    """The anonymous visitor's consent id, when the cookie holds one privacy issued (any other
    value, e.g. a made-up or another user's id, counts as no cookie)."""
    found = container(request)
    return parse_consent_id(request.cookies.get(found.settings.consent_cookie),
                            found.consent_id_secret)


Container = Annotated[PrivacyContainer, Depends(container)]
# Committed before the response is sent, so a 2xx means the change is durable.
Session = Annotated[AsyncSession, Depends(transaction, scope="function")]
MaybeUser = Annotated[Principal | None, Depends(optional_user)]
