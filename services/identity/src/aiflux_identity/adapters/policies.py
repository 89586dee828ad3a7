"""Privacy-policy versions and their notice runs in PostgreSQL, within the caller's
transaction, returning typed values."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from aiflux_kit.auth import forget_sessions_on_commit
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from .orm import policy_notices, policy_versions, users


@dataclass(frozen=True)
class NoticeRun:
    """An unfinished mailing of a substantial version to every user."""

    version: str
    sent: int
    last_user_id: uuid.UUID | None


@dataclass(frozen=True)
class Recipient:
    """A live account a notice goes to."""

    id: uuid.UUID
    email: str


async def version_in_force(session: AsyncSession, at: datetime) -> str | None:
    """The newest version whose effective date is at or before ``at`` (None: none known)."""
    version: str | None = (
        await session.execute(
            select(policy_versions.c.version)
            .where(policy_versions.c.effective_at <= at)
            .order_by(policy_versions.c.effective_at.desc(), policy_versions.c.recorded_at.desc())
            .limit(1)
        )
    ).scalar()
    return version


async def scheduled_versions(session: AsyncSession, now: datetime) -> list[str]:
    """The versions taking effect after ``now``, soonest first."""
    rows = await session.execute(
        select(policy_versions.c.version)
        .where(policy_versions.c.effective_at > now)
        .order_by(policy_versions.c.effective_at)
    )
    return list(rows.scalars().all())


async def record_version(
    session: AsyncSession, version: str, substantial: bool, effective_at: datetime
) -> None:
    """Remember a published version (a repeated delivery changes nothing). Cached sessions
    of this process are forgotten on commit: whether users accepted the policy in force may
    have changed for all of them."""
    await session.execute(
        insert(policy_versions)
        .values(version=version, substantial=substantial, effective_at=effective_at)
        .on_conflict_do_nothing()
    )
    forget_sessions_on_commit(session, None)


async def effective_at(session: AsyncSession, version: str) -> datetime:
    """When a known version takes (or took) effect."""
    when: datetime = (
        await session.execute(
            select(policy_versions.c.effective_at).where(policy_versions.c.version == version)
        )
    ).scalar_one()
    return when


async def start_notice_run(session: AsyncSession, version: str) -> None:
    """Start mailing every live account about ``version`` (once per version)."""
    total = (
        await session.execute(select(func.count()).select_from(users).where(users.c.deleted_at.is_(None)))
    ).scalar_one()
    await session.execute(
        insert(policy_notices).values(version=version, total=total).on_conflict_do_nothing()
    )


async def lock_next_run(session: AsyncSession) -> NoticeRun | None:
    """The oldest unfinished run nobody else holds, locked until the transaction ends."""
    row = (
        await session.execute(
            select(policy_notices.c.version, policy_notices.c.sent, policy_notices.c.last_user_id)
            .where(policy_notices.c.finished_at.is_(None))
            .order_by(policy_notices.c.started_at)
            .limit(1)
            .with_for_update(skip_locked=True)
        )
    ).first()
    return None if row is None else NoticeRun(row.version, row.sent, row.last_user_id)


async def recipients_after(
    session: AsyncSession, last_user_id: uuid.UUID | None, limit: int
) -> list[Recipient]:
    """The next ``limit`` live accounts in id order after ``last_user_id``."""
    query = (
        select(users.c.id, users.c.email)
        .where(users.c.deleted_at.is_(None))
        .order_by(users.c.id)
        .limit(limit)
    )
    if last_user_id is not None:
        query = query.where(users.c.id > last_user_id)
    return [Recipient(row.id, row.email) for row in (await session.execute(query)).all()]


async def advance_run(
    session: AsyncSession, run: NoticeRun, batch: list[Recipient], *, finished: bool
) -> None:
    """Count ``batch`` as sent, move the cursor past it, and finish the run if ``finished``."""
    values: dict[str, object] = {"sent": run.sent + len(batch)}
    if batch:
        values["last_user_id"] = batch[-1].id
    if finished:
        values["finished_at"] = func.now()
    await session.execute(
        update(policy_notices).where(policy_notices.c.version == run.version).values(**values)
    )
