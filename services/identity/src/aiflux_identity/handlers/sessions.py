"""Login, logout, the session list, and the database-backed session verifier."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiflux_contracts import SessionRevoked
from aiflux_kit.auth import Principal, token_hash
from aiflux_kit.outbox import add_event
from sqlalchemy import ColumnElement, and_, func, insert, select, update

from ..adapters.credentials import log_security_event, new_secret
from ..adapters.orm import sessions, users
from ..adapters.records import LoginCandidate, SessionSummary
from ..domain.accounts import normalise_email
from ..domain.errors import (
    AccountSuspended,
    EmailNotVerified,
    InvalidCredentials,
    InvalidEmail,
    NotFound,
)
from .common import ClientInfo, utcnow
from .policy import policy_accepted

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer


@dataclass(frozen=True)
class SignedIn:
    """A new session: the cookie value and the CSRF token (shown once)."""

    user_id: uuid.UUID
    session_token: str
    csrf_token: str


async def login(c: IdentityContainer, login_name: str, password: str, client: ClientInfo) -> SignedIn:
    """Check the password (same cost for unknown logins) and open a session."""
    await c.limit("login-ip", client.ip or "-", c.settings.limit_login_ip)
    # Keyed on the login as typed (normalised), never on the account it resolves to: a limit
    # shared by a username and an address would tell which address belongs to which name.
    await c.limit("login-name", login_key(login_name), c.settings.limit_login_account)
    account = await _find_login(c, login_name)
    ok = await c.hasher.verify(password, account.password_hash if account else None)
    async with c.database.transaction() as session:
        if not ok or account is None:
            await log_security_event(session, "login_failed", account.id if account else None, client)
            failed = True
        else:
            failed = False
    if failed or account is None:
        raise InvalidCredentials
    if account.suspended_at is not None:
        raise AccountSuspended
    if not account.email_verified:
        raise EmailNotVerified
    return await _open_session(c, account.id, client)


def login_key(login_name: str) -> str:
    """The rate-limit key of a login string: a hash of its normalised form (no account id)."""
    name = login_name.strip()
    if "@" in name:
        try:
            key: str = token_hash("email:" + normalise_email(name))
            return key
        except InvalidEmail:
            pass
    key = token_hash("name:" + name.lower())
    return key


async def _find_login(c: IdentityContainer, login_name: str) -> LoginCandidate | None:
    name = login_name.strip()
    try:
        by_email = normalise_email(name) if "@" in name else None
    except InvalidEmail:
        by_email = None
    match = users.c.email == by_email if by_email else func.lower(users.c.username) == name.lower()
    async with c.database.transaction() as session:
        row = (
            await session.execute(
                select(users.c.id, users.c.password_hash, users.c.email_verified, users.c.suspended_at).where(
                    match, users.c.deleted_at.is_(None)
                )
            )
        ).first()
    return None if row is None else LoginCandidate(**row._asdict())


async def _open_session(c: IdentityContainer, user_id: uuid.UUID, client: ClientInfo) -> SignedIn:
    token, csrf = new_secret(), new_secret()
    async with c.database.transaction() as session:
        await session.execute(
            insert(sessions).values(
                id=uuid.uuid4(),
                user_id=user_id,
                token_hash=token_hash(token),
                csrf_token_hash=token_hash(csrf),
                ip=client.ip,
                user_agent=(client.user_agent or "")[:512] or None,
            )
        )
        await log_security_event(session, "login_succeeded", user_id, client)
    return SignedIn(user_id, token, csrf)


async def logout(c: IdentityContainer, principal: Principal, client: ClientInfo) -> None:
    """End the caller's session."""
    async with c.database.transaction() as session:
        await session.execute(
            update(sessions)
            .where(sessions.c.token_hash == principal.session_id_hash, sessions.c.revoked_at.is_(None))
            .values(revoked_at=func.now())
        )
        await log_security_event(session, "logout", principal.user_id, client)
        await add_event(
            session, SessionRevoked(user_id=principal.user_id, session_id_hash=principal.session_id_hash)
        )


def _live(c: IdentityContainer, now: datetime) -> ColumnElement[bool]:
    s = c.settings
    return and_(
        sessions.c.revoked_at.is_(None),
        sessions.c.last_seen_at > now - timedelta(seconds=s.session_idle_timeout_s),
        sessions.c.created_at > now - timedelta(seconds=s.session_absolute_timeout_s),
    )


async def list_sessions(c: IdentityContainer, principal: Principal) -> list[SessionSummary]:
    """The caller's live sessions, newest first."""
    async with c.database.transaction() as session:
        rows = (
            await session.execute(
                select(sessions)
                .where(sessions.c.user_id == principal.user_id, _live(c, utcnow()))
                .order_by(sessions.c.created_at.desc())
            )
        ).all()
    return [
        SessionSummary(
            id=r.id,
            created_at=r.created_at,
            last_seen_at=r.last_seen_at,
            ip=r.ip,
            user_agent=r.user_agent,
            current=r.token_hash == principal.session_id_hash,
        )
        for r in rows
    ]


async def revoke_session(
    c: IdentityContainer, principal: Principal, session_id: uuid.UUID, client: ClientInfo
) -> None:
    """End one of the caller's sessions."""
    async with c.database.transaction() as session:
        ended = (
            await session.execute(
                update(sessions)
                .where(
                    sessions.c.id == session_id,
                    sessions.c.user_id == principal.user_id,
                    sessions.c.revoked_at.is_(None),
                )
                .values(revoked_at=func.now())
                .returning(sessions.c.token_hash)
            )
        ).first()
        if ended is None:
            raise NotFound("session")
        await log_security_event(
            session, "session_revoked", principal.user_id, client, session_id=str(session_id)
        )
        await add_event(session, SessionRevoked(user_id=principal.user_id, session_id_hash=ended[0]))


class DbSessionVerifier:
    """Identity's own answer to "who owns this session token" (no cache: always current)."""

    def __init__(self, container: IdentityContainer) -> None:
        self._c = container

    async def verify(self, session_token: str) -> Principal | None:
        """The live session's principal, or None; refreshes the idle timer now and then."""
        c, now, key = self._c, utcnow(), token_hash(session_token)
        async with c.database.transaction() as session:
            row = (
                await session.execute(
                    select(
                        sessions.c.id,
                        sessions.c.csrf_token_hash,
                        sessions.c.last_seen_at,
                        users.c.id.label("user_id"),
                        users.c.roles,
                        users.c.accepted_policy_version,
                    )
                    .join(users, users.c.id == sessions.c.user_id)
                    .where(
                        sessions.c.token_hash == key,
                        _live(c, now),
                        users.c.deleted_at.is_(None),
                        users.c.suspended_at.is_(None),
                    )
                )
            ).first()
            if row is None:
                return None
            if row.last_seen_at < now - timedelta(seconds=c.settings.session_touch_interval_s):
                await session.execute(
                    update(sessions).where(sessions.c.id == row.id).values(last_seen_at=now)
                )
            accepted = await policy_accepted(session, row.accepted_policy_version, now)
        return Principal(
            user_id=row.user_id,
            session_id_hash=key,
            csrf_token_hash=row.csrf_token_hash,
            roles=frozenset(row.roles),
            policy_accepted=accepted,
        )

    def forget(self, user_id: uuid.UUID, session_id_hash: str | None) -> None:
        """Nothing cached here: every answer is read from the database."""
