"""Reads and writes of provider cleanups and of erasure runs (``provider_cleanup``,
``generation_erasure``)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import ErasureRun, ProviderCleanup
from .orm import generation_erasure, provider_cleanup


def _cleanup(row: sa.Row[Any]) -> ProviderCleanup:
    values = dict(row._mapping)
    values["provider_file_ids"] = tuple(str(f) for f in values["provider_file_ids"])
    return ProviderCleanup(**values)


def _erasure(row: sa.Row[Any]) -> ErasureRun:
    return ErasureRun(
        request_id=row.request_id,
        user_id=row.user_id,
        deleted={k: int(v) for k, v in dict(row.deleted).items()},
        cleanup_ids=tuple(str(i) for i in row.cleanup_ids),
        completed_at=row.completed_at,
    )


async def record_cleanup(
    session: AsyncSession,
    *,
    cleanup_id: uuid.UUID,
    generation_id: uuid.UUID,
    user_id: uuid.UUID | None,
    provider: str,
    provider_job_id: str | None,
    provider_file_ids: list[str],
) -> None:
    """Keep a requested cleanup (idempotent by cleanup id)."""
    await session.execute(
        sa.text(
            "INSERT INTO provider_cleanup (cleanup_id, generation_id, user_id, provider,"
            " provider_job_id, provider_file_ids) VALUES (:c, :g, :u, :p, :j, CAST(:f AS jsonb))"
            " ON CONFLICT DO NOTHING"
        ),
        {
            "c": cleanup_id,
            "g": generation_id,
            "u": user_id,
            "p": provider,
            "j": provider_job_id,
            "f": json.dumps(provider_file_ids),
        },
    )


async def claim_due(session: AsyncSession, batch: int, lease_s: float) -> list[ProviderCleanup]:
    """Due pending cleanups, each leased to this worker (``FOR UPDATE SKIP LOCKED``)."""
    due = (
        sa.select(provider_cleanup.c.cleanup_id)
        .where(provider_cleanup.c.status == "pending", provider_cleanup.c.next_attempt_at <= sa.func.now())
        .order_by(provider_cleanup.c.next_attempt_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    rows = (
        await session.execute(
            sa.update(provider_cleanup)
            .where(provider_cleanup.c.cleanup_id.in_(due))
            .values(next_attempt_at=sa.func.now() + timedelta(seconds=lease_s))
            .returning(provider_cleanup)
        )
    ).all()
    return [_cleanup(r) for r in rows]


async def mark_done(session: AsyncSession, cleanup_id: uuid.UUID, strategy: str) -> None:
    """The cleanup succeeded with ``strategy``."""
    await session.execute(
        sa.update(provider_cleanup)
        .where(provider_cleanup.c.cleanup_id == cleanup_id)
        .values(status="done", strategy=strategy, done_at=sa.func.now(), last_error=None)
    )


async def schedule_retry(
    session: AsyncSession,
    cleanup_id: uuid.UUID,
    *,
    attempts: int,
    error: str,
    parked: bool,
    next_attempt_at: datetime,
) -> None:
    """Count a failed attempt; run again at ``next_attempt_at`` unless ``parked``."""
    await session.execute(
        sa.update(provider_cleanup)
        .where(provider_cleanup.c.cleanup_id == cleanup_id)
        .values(
            attempts=attempts,
            last_error=error[:300],
            status="parked" if parked else "pending",
            next_attempt_at=next_attempt_at,
        )
    )


async def reopen(session: AsyncSession, cleanup_id: uuid.UUID) -> bool:
    """Put an open cleanup back to run now; False when there is no open one."""
    row = (
        await session.execute(
            sa.update(provider_cleanup)
            .where(provider_cleanup.c.cleanup_id == cleanup_id, provider_cleanup.c.status != "done")
            .values(status="pending", attempts=0, next_attempt_at=sa.func.now())
            .returning(provider_cleanup.c.cleanup_id)
        )
    ).first()
    return row is not None


async def by_status(session: AsyncSession, status: str, limit: int) -> list[ProviderCleanup]:
    """Cleanups in ``status``, oldest first."""
    rows = (
        await session.execute(
            sa.select(provider_cleanup)
            .where(provider_cleanup.c.status == status)
            .order_by(provider_cleanup.c.created_at)
            .limit(limit)
        )
    ).all()
    return [_cleanup(r) for r in rows]


async def open_ids_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[str]:
    """Ids of the user's cleanups not done yet."""
    rows = (
        await session.execute(
            sa.select(provider_cleanup.c.cleanup_id).where(
                provider_cleanup.c.user_id == user_id, provider_cleanup.c.status != "done"
            )
        )
    ).all()
    return [str(r.cleanup_id) for r in rows]


async def all_done(session: AsyncSession, cleanup_ids: tuple[str, ...] | list[str]) -> bool:
    """True when every listed cleanup is done."""
    if not cleanup_ids:
        return True
    done = (
        await session.execute(
            sa.select(sa.func.count())
            .select_from(provider_cleanup)
            .where(
                provider_cleanup.c.cleanup_id.in_([uuid.UUID(i) for i in cleanup_ids]),
                provider_cleanup.c.status == "done",
            )
        )
    ).scalar_one()
    return int(done) == len(cleanup_ids)


async def record_erasure_run(
    session: AsyncSession,
    request_id: uuid.UUID,
    user_id: uuid.UUID,
    deleted: dict[str, int],
    cleanup_ids: list[str],
) -> ErasureRun:
    """Add one run to the request's erasure row (totals, cleanups); reopen it until they are
    done."""
    earlier = (
        await session.execute(
            sa.select(generation_erasure)
            .where(generation_erasure.c.request_id == request_id)
            .with_for_update()
        )
    ).first()
    if earlier is not None:
        deleted = {k: int(earlier.deleted.get(k, 0)) + v for k, v in deleted.items()}
        cleanup_ids = [*earlier.cleanup_ids, *(i for i in cleanup_ids if i not in earlier.cleanup_ids)]
    values = {"user_id": user_id, "deleted": deleted, "cleanup_ids": cleanup_ids, "completed_at": None}
    return _erasure(
        (
            await session.execute(
                pg_insert(generation_erasure)
                .values(request_id=request_id, **values)
                .on_conflict_do_update(index_elements=[generation_erasure.c.request_id], set_=values)
                .returning(generation_erasure)
            )
        ).one()
    )


async def open_erasures(session: AsyncSession, *, waiting_for: uuid.UUID | None = None) -> list[ErasureRun]:
    """Erasures not completed (locked; only those waiting for one cleanup if given)."""
    query = sa.select(generation_erasure).where(generation_erasure.c.completed_at.is_(None))
    if waiting_for is not None:
        query = query.where(generation_erasure.c.cleanup_ids.contains([str(waiting_for)]))
        query = query.with_for_update()
    else:
        query = query.with_for_update(skip_locked=True)
    return [_erasure(r) for r in (await session.execute(query)).all()]


async def close_erasure(session: AsyncSession, run: ErasureRun) -> None:
    """Mark the erasure complete and forget its user id here (and on its done cleanups)."""
    await session.execute(
        sa.update(generation_erasure)
        .where(generation_erasure.c.request_id == run.request_id)
        .values(completed_at=sa.func.now(), user_id=None)
    )
    await session.execute(
        sa.update(provider_cleanup)
        .where(provider_cleanup.c.user_id == run.user_id, provider_cleanup.c.status == "done")
        .values(user_id=None)
    )
