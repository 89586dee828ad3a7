"""Login sessions in PostgreSQL (tokens stored hashed), within the caller's transaction,
returning typed records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .orm import sessions, users
from .records import LoginCandidate, SessionSummary


@dataclass(frozen=True)
class Lifetime:
    """How long a session lives: idle, and at most since it was opened."""

    idle: timedelta
    absolute: timedelta


@dataclass(frozen=True)
class NewSession:
    """What a login stores: hashes of the cookie and CSRF tokens, and the client."""

    user_id: uuid.UUID
    token_hash: str
    csrf_token_hash: str
    ip: str | None
    user_agent: str | None


@dataclass(frozen=True)
class SessionOwner:
    """A live session of a usable account, with what a principal is made of."""

    session_id: uuid.UUID
    csrf_token_hash: str
    last_seen_at: datetime
    user_id: uuid.UUID
    roles: list[str]
    accepted_policy_version: str


def _live(lifetime: Lifetime, now: datetime) -> ColumnElement[bool]:
    return and_(
        sessions.c.revoked_at.is_(None),
        sessions.c.last_seen_at > now - lifetime.idle,
        sessions.c.created_at > now - lifetime.absolute,
    )


async def find_login(
    session: AsyncSession, *, email: str | None = None, username: str | None = None
) -> LoginCandidate | None:
    """The live account with ``email`` (if given) or else ``username`` (any case)."""
    match = users.c.email == email if email else func.lower(users.c.username) == (username or "").lower()
    row = (
        await session.execute(
            select(users.c.id, users.c.password_hash, users.c.email_verified, users.c.suspended_at).where(
                match, users.c.deleted_at.is_(None)
            )
        )
    ).first()
    return (
        None
        if row is None
        else LoginCandidate(row.id, row.password_hash, row.email_verified, row.suspended_at)
    )


async def open_session(session: AsyncSession, new: NewSession) -> None:
    """Store a new session."""
    await session.execute(
        insert(sessions).values(
            id=uuid.uuid4(),
            user_id=new.user_id,
            token_hash=new.token_hash,
            csrf_token_hash=new.csrf_token_hash,
            ip=new.ip,
            user_agent=new.user_agent,
        )
    )


async def revoke_by_token(session: AsyncSession, token_hash: str) -> None:
    """End the session with this token (if not ended yet)."""
    await session.execute(
        update(sessions)
        .where(sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )


async def revoke_of_user(session: AsyncSession, session_id: uuid.UUID, user_id: uuid.UUID) -> str | None:
    """End one live session of the user; its token hash, or None when there is no such one."""
    ended = (
        await session.execute(
            update(sessions)
            .where(
                sessions.c.id == session_id,
                sessions.c.user_id == user_id,
                sessions.c.revoked_at.is_(None),
            )
            .values(revoked_at=func.now())
            .returning(sessions.c.token_hash)
        )
    ).first()
    return None if ended is None else str(ended.token_hash)


async def live_summaries(
    session: AsyncSession, user_id: uuid.UUID, current_token_hash: str, lifetime: Lifetime, now: datetime
) -> list[SessionSummary]:
    """The user's live sessions, newest first (``current``: the one with that token hash)."""
    rows = (
        await session.execute(
            select(sessions)
            .where(sessions.c.user_id == user_id, _live(lifetime, now))
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
            current=r.token_hash == current_token_hash,
        )
        for r in rows
    ]


async def live_owner(
    session: AsyncSession, token_hash: str, lifetime: Lifetime, now: datetime
) -> SessionOwner | None:
    """The live session with this token hash, of a neither disabled nor suspended account."""
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
                sessions.c.token_hash == token_hash,
                _live(lifetime, now),
                users.c.deleted_at.is_(None),
                users.c.suspended_at.is_(None),
            )
        )
    ).first()
    if row is None:
        return None
    return SessionOwner(
        row.id,
        row.csrf_token_hash,
        row.last_seen_at,
        row.user_id,
        list(row.roles),
        row.accepted_policy_version,
    )


async def touch(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    """Record that the session was used at ``now`` (restarts its idle timer)."""
    await session.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now))
