"""The account: profile, rectification, deletion, policy acceptance, suspension."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from aiflux_contracts import PolicyAccepted, UserDeleted, UserSuspended, UserUpdated
from aiflux_kit.auth import Principal
from aiflux_kit.outbox import add_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import accounts
from ..adapters.credentials import (
    invalidate_email_tokens,
    issue_email_token,
    log_security_event,
    revoke_sessions,
)
from ..adapters.records import AccountProfile
from ..domain import messages
from ..domain.accounts import normalise_email, normalise_username
from ..domain.errors import NotFound, UsernameTaken
from .common import ClientInfo, utcnow
from .policy import acceptable_version
from .recovery import require_password

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer


async def profile(c: IdentityContainer, user_id: uuid.UUID) -> AccountProfile:
    """What the account holds about the user (``pending_email`` awaits confirmation)."""
    async with c.database.transaction() as session:
        found = await accounts.live_profile(session, user_id)
    if found is None:
        raise NotFound("account")
    return found


async def rectify(
    c: IdentityContainer,
    principal: Principal,
    username: str | None,
    email: str | None,
    current_password: str,
    client: ClientInfo,
) -> None:
    """Change the username now, and the address once the new one is confirmed."""
    new_name = normalise_username(username) if username is not None else None
    new_email = normalise_email(email) if email is not None else None
    await require_password(c, principal, current_password)
    token = None
    try:
        async with c.database.transaction() as session:
            if new_name is not None:
                await _rename(session, principal.user_id, new_name, client)
            if new_email is not None:
                token = await issue_email_token(
                    session, principal.user_id, "email_change", c.settings.verification_token_ttl_s, new_email
                )
                await log_security_event(session, "email_change_requested", principal.user_id, client)
    except IntegrityError:
        raise UsernameTaken() from None
    if token and new_email:
        await c.send_mail(
            new_email,
            messages.confirm_new_email(
                c.link("/verify-email", token=token), c.settings.verification_token_ttl_s
            ),
            user_id=principal.user_id,
        )


async def _rename(session: AsyncSession, user_id: uuid.UUID, username: str, client: ClientInfo) -> None:
    if await accounts.username_taken(session, username, by_other_than=user_id):
        raise UsernameTaken()
    await accounts.set_username(session, user_id, username)
    await log_security_event(session, "username_changed", user_id, client)
    await add_event(session, UserUpdated(user_id=user_id, fields=["username"]))


@dataclass(frozen=True)
class ErasureStarted:
    """The 202 of an account deletion: the erasure's id and its status link."""

    request_id: uuid.UUID
    status_url: str


async def delete_account(
    c: IdentityContainer, principal: Principal, password: str, client: ClientInfo
) -> ErasureStarted:
    """Disable the account, end its sessions and start the erasure cascade (one transaction).

    The status link's token goes to the user only; ``UserDeleted`` carries its sha256, which
    privacy keeps with the request, so the user can follow the erasure without a session.
    """
    await require_password(c, principal, password)
    request_id = uuid.uuid4()
    token = secrets.token_urlsafe(32)
    async with c.database.transaction() as session:
        await disable_account(
            session,
            principal.user_id,
            request_id,
            "user_request",
            client,
            status_token_sha256=hashlib.sha256(token.encode()).hexdigest(),
        )
    return ErasureStarted(request_id, c.link(f"/v1/privacy/requests/{request_id}/status", token=token))


async def disable_account(
    session: AsyncSession,
    user_id: uuid.UUID,
    request_id: uuid.UUID,
    reason: Literal["user_request", "privacy_request", "minor"],
    client: ClientInfo,
    status_token_sha256: str | None = None,
) -> None:
    """Disable (if not yet), end sessions and publish ``UserDeleted`` with ``request_id``.

    Idempotent: a re-driven request republishes ``UserDeleted`` and changes nothing else.
    """
    disabled = await accounts.disable(session, user_id, request_id)
    await revoke_sessions(session, user_id)
    await invalidate_email_tokens(session, user_id)
    if disabled:
        await log_security_event(
            session, "account_deleted", user_id, client, reason=reason, request_id=str(request_id)
        )
    username = await accounts.username_of(session, user_id)
    await add_event(
        session,
        UserDeleted(
            user_id=user_id,
            request_id=request_id,
            reason=reason,
            status_token_sha256=status_token_sha256,
            # Reports of minors name accounts by username; privacy erases them with the user.
            account_name_sha256=username_sha256(username) if username else None,
        ),
    )


def username_sha256(username: str) -> str:
    """How ``UserDeleted`` names the account's username: sha256 of it lower-cased."""
    return hashlib.sha256(username.strip().lower().encode()).hexdigest()


async def accept_policy(c: IdentityContainer, principal: Principal, version: str, client: ClientInfo) -> None:
    """Record the caller's acceptance of the version in force or a scheduled one (§4)."""
    async with c.database.transaction() as session:
        await acceptable_version(session, version, "to go on using AIFLUX")
        await accounts.record_policy_acceptance(session, principal.user_id, version, utcnow())
        await log_security_event(session, "policy_accepted", principal.user_id, client, version=version)
        await add_event(session, PolicyAccepted(user_id=principal.user_id, version=version))


async def suspend(c: IdentityContainer, user_id: uuid.UUID, reason: str) -> None:
    """Suspend an account (e.g. reported as a minor's): no more logins, sessions end."""
    async with c.database.transaction() as session:
        if not await accounts.suspend(session, user_id):
            raise NotFound("user")
        await revoke_sessions(session, user_id)
        await invalidate_email_tokens(session, user_id)
        await log_security_event(session, "account_suspended", user_id, ClientInfo(), reason=reason[:200])
        await add_event(session, UserSuspended(user_id=user_id, reason=reason[:200]))
