"""Reading the security log and the policy-notice runs (ops views), as typed records."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .orm import policy_notices, security_log


@dataclass(frozen=True)
class NoticeRun:
    """One run of mails announcing a substantial policy change."""

    version: str
    total: int
    sent: int
    started_at: datetime
    finished_at: datetime | None

    @property
    def done(self) -> bool:
        """Every user was mailed."""
        return self.finished_at is not None


@dataclass(frozen=True)
class SecurityEvent:
    """One security-log row: ids and outcomes, never a password or a token."""

    id: int
    user_id: uuid.UUID | None
    event: str
    ip: str | None
    user_agent: str | None
    detail: dict[str, Any]
    created_at: datetime


async def notice_runs(session: AsyncSession) -> list[NoticeRun]:
    """Every notice run, newest first."""
    rows = (
        await session.execute(
            select(
                policy_notices.c.version,
                policy_notices.c.total,
                policy_notices.c.sent,
                policy_notices.c.started_at,
                policy_notices.c.finished_at,
            ).order_by(policy_notices.c.started_at.desc())
        )
    ).all()
    return [NoticeRun(r.version, r.total, r.sent, r.started_at, r.finished_at) for r in rows]


async def security_events(
    session: AsyncSession, user_id: uuid.UUID | None, limit: int, before_id: int | None
) -> list[SecurityEvent]:
    """Up to ``limit`` rows, newest first, older than ``before_id`` (optionally of one user)."""
    query = select(security_log).order_by(security_log.c.id.desc()).limit(limit)
    if user_id:
        query = query.where(security_log.c.user_id == user_id)
    if before_id:
        query = query.where(security_log.c.id < before_id)
    rows = (await session.execute(query)).all()
    return [
        SecurityEvent(r.id, r.user_id, r.event, r.ip, r.user_agent, dict(r.detail or {}), r.created_at)
        for r in rows
    ]
