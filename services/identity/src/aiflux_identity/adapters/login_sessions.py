"""Login sessions in PostgreSQL (tokens stored hashed), within the caller's transaction,
returning typed records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiflux_kit.auth import forget_sessions_on_commit
from sqlalchemy import ColumnElement, and_, exists, func, insert, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from .orm import policy_versions, sessions, users
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
    created_at: datetime
    last_seen_at: datetime
    user_id: uuid.UUID
    roles: list[str]
    policy_accepted: bool
    """False when a substantial policy version newer than the one the user accepted is in
    force (an unknown accepted version counts as older than every one)."""
    policy_changes_at: datetime | None
    """When the next scheduled substantial version takes effect (the answer may change then)."""


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
    """End the session with this token (if not ended yet); this process's session caches
    forget it when the transaction commits."""
    ended = (
        await session.execute(
            update(sessions)
            .where(sessions.c.token_hash == token_hash, sessions.c.revoked_at.is_(None))
            .values(revoked_at=func.now())
            .returning(sessions.c.user_id)
        )
    ).first()
    if ended is not None:
        forget_sessions_on_commit(session, ended.user_id, token_hash)


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
    if ended is None:
        return None
    forget_sessions_on_commit(session, user_id, ended.token_hash)
    return str(ended.token_hash)


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
    """The live session with this token hash, of a neither disabled nor suspended account,
    with the user's policy standing, in one statement."""
    accepted = policy_versions.alias("accepted")
    newer = policy_versions.alias("newer")
    coming = policy_versions.alias("coming")
    # The accepted version joins in (left: an unknown one leaves it NULL, "older than all").
    newer_substantial = exists().where(
        newer.c.substantial,
        newer.c.effective_at <= now,
        or_(accepted.c.effective_at.is_(None), newer.c.effective_at > accepted.c.effective_at),
    )
    next_change = (
        select(func.min(coming.c.effective_at))
        .where(coming.c.substantial, coming.c.effective_at > now)
        .scalar_subquery()
    )
    row = (
        await session.execute(
            select(
                sessions.c.id,
                sessions.c.csrf_token_hash,
                sessions.c.created_at,
                sessions.c.last_seen_at,
                users.c.id.label("user_id"),
                users.c.roles,
                (~newer_substantial).label("policy_accepted"),
                next_change.label("policy_changes_at"),
            )
            .join(users, users.c.id == sessions.c.user_id)
            .outerjoin(accepted, accepted.c.version == users.c.accepted_policy_version)
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
        row.created_at,
        row.last_seen_at,
        row.user_id,
        list(row.roles),
        bool(row.policy_accepted),
        row.policy_changes_at,
    )


async def touch(session: AsyncSession, session_id: uuid.UUID, now: datetime) -> None:
    """Record that the session was used at ``now`` (restarts its idle timer)."""
    await session.execute(update(sessions).where(sessions.c.id == session_id).values(last_seen_at=now))
