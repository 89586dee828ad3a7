"""What the retention sweeps delete in PostgreSQL, within the caller's transaction; each
returns how much it removed."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from .orm import email_tokens, security_log, sessions, users


def rowcount(result: object) -> int:
    """How many rows a DELETE removed."""
    return int(getattr(result, "rowcount", 0) or 0)


async def delete_security_log_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete the security-log rows written before ``cutoff``; how many."""
    return rowcount(await session.execute(delete(security_log).where(security_log.c.created_at < cutoff)))


async def purge_accounts_disabled_before(session: AsyncSession, cutoff: datetime) -> list[uuid.UUID]:
    """Delete the accounts disabled before ``cutoff``; their ids."""
    purged = await session.execute(delete(users).where(users.c.deleted_at < cutoff).returning(users.c.id))
    return list(purged.scalars().all())


async def delete_ended_sessions(
    session: AsyncSession, revoked_before: datetime, created_before: datetime
) -> int:
    """Delete sessions revoked before ``revoked_before`` or opened before ``created_before``."""
    ended = await session.execute(
        delete(sessions).where(
            or_(sessions.c.revoked_at < revoked_before, sessions.c.created_at < created_before)
        )
    )
    return rowcount(ended)


async def delete_email_tokens_expired_before(session: AsyncSession, cutoff: datetime) -> int:
    """Delete the mailed-link tokens that expired before ``cutoff``; how many."""
    return rowcount(await session.execute(delete(email_tokens).where(email_tokens.c.expires_at < cutoff)))
