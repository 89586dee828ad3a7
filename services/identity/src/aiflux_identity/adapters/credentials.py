"""Credentials and the security log in PostgreSQL: mailed-link tokens (stored hashed), session
revocation, security-log rows. Each runs in the caller's transaction."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiflux_contracts import SessionRevoked
from aiflux_kit.auth import forget_sessions_on_commit, token_hash
from aiflux_kit.outbox import add_event
from sqlalchemy import func, insert, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.client import ClientInfo
from .orm import email_tokens, security_log, sessions


def utcnow() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


def new_secret() -> str:
    """A random URL-safe token (256 bits)."""
    return secrets.token_urlsafe(32)


async def log_security_event(
    session: AsyncSession,
    event: str,
    user_id: uuid.UUID | None,
    client: ClientInfo,
    **detail: Any,
) -> None:
    """Add a security-log row: never a password or a token, only ids and outcomes."""
    await session.execute(
        insert(security_log).values(
            user_id=user_id,
            event=event,
            ip=client.ip,
            user_agent=(client.user_agent or "")[:512] or None,
            detail=detail,
        )
    )


async def issue_email_token(
    session: AsyncSession,
    user_id: uuid.UUID,
    purpose: str,
    ttl_s: int,
    new_email: str | None = None,
) -> str:
    """Store a single-use token (hashed) and return the plain token for the mail link."""
    token = new_secret()
    await session.execute(
        insert(email_tokens).values(
            token_hash=token_hash(token),
            user_id=user_id,
            purpose=purpose,
            new_email=new_email,
            expires_at=utcnow() + timedelta(seconds=ttl_s),
        )
    )
    return token


RECOVERY_PURPOSES = ("reset", "email_change")


async def invalidate_email_tokens(
    session: AsyncSession,
    user_id: uuid.UUID,
    purposes: tuple[str, ...] = RECOVERY_PURPOSES,
) -> int:
    """Mark every unused token of ``user_id`` for ``purposes`` as used (in the caller's
    transaction), so a link mailed before a password reset, a password change, a suspension, a
    deletion or an address change can no longer take the account over."""
    result = await session.execute(
        update(email_tokens)
        .where(
            email_tokens.c.user_id == user_id,
            email_tokens.c.purpose.in_(purposes),
            email_tokens.c.used_at.is_(None),
        )
        .values(used_at=func.now())
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def revoke_sessions(
    session: AsyncSession,
    user_id: uuid.UUID,
    *,
    keep_token_hash: str | None = None,
) -> int:
    """End every live session of ``user_id`` (but one) and tell the other services."""
    query = (
        update(sessions)
        .where(sessions.c.user_id == user_id, sessions.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(sessions.c.token_hash)
    )
    if keep_token_hash:
        query = query.where(sessions.c.token_hash != keep_token_hash)
    ended = (await session.execute(query)).scalars().all()
    if ended:
        await add_event(session, SessionRevoked(user_id=user_id, session_id_hash=None))
        forget_sessions_on_commit(session, user_id)
    return len(ended)
