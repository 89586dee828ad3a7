"""Reads and writes of generation rows (SQLAlchemy Core on the service's own tables)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import Generation
from .orm import generation, processing_restriction

ACTIVE = ("queued", "running")


def to_generation(row: sa.Row[Any]) -> Generation:
    """A ``generation`` row as the domain's record."""
    values = dict(row._mapping)
    for key in ("input_file_ids", "provider_file_ids", "output_file_ids"):
        values[key] = tuple(str(f) for f in values[key])
    values["params"] = dict(values["params"])
    return Generation(**values)


def _one(row: sa.Row[Any] | None) -> Generation | None:
    return None if row is None else to_generation(row)


async def insert_generation(session: AsyncSession, values: dict[str, Any]) -> None:
    """Save a new job."""
    await session.execute(sa.insert(generation).values(**values))


async def get_generation(
    session: AsyncSession, generation_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
) -> Generation | None:
    """One row (optionally only the caller's, optionally locked), or None."""
    query = sa.select(generation).where(generation.c.id == generation_id)
    if user_id is not None:
        query = query.where(generation.c.user_id == user_id)
    if lock:
        query = query.with_for_update()
    return _one((await session.execute(query)).first())


async def list_generations(
    session: AsyncSession, user_id: uuid.UUID, limit: int, cursor: uuid.UUID | None
) -> list[Generation]:
    """The user's jobs, newest first, after ``cursor`` (the last id of the previous page)."""
    query = sa.select(generation).where(generation.c.user_id == user_id)
    if cursor is not None:
        anchor = (
            sa.select(generation.c.created_at)
            .where(generation.c.id == cursor, generation.c.user_id == user_id)
            .scalar_subquery()
        )
        # an unknown cursor (or someone else's) leaves the anchor NULL: an empty page
        query = query.where(
            sa.tuple_(generation.c.created_at, generation.c.id)
            < sa.tuple_(anchor, sa.literal(cursor, sa.Uuid))
        )
    query = query.order_by(generation.c.created_at.desc(), generation.c.id.desc()).limit(limit)
    return [to_generation(r) for r in (await session.execute(query)).all()]


async def update_generation(
    session: AsyncSession, generation_id: uuid.UUID, *, only_active: bool = False, **values: Any
) -> Generation | None:
    """Change a row; returns it, or None when it is gone (deleted meanwhile)."""
    query = sa.update(generation).where(generation.c.id == generation_id).values(**values)
    if only_active:
        query = query.where(generation.c.status.in_(ACTIVE))
    return _one((await session.execute(query.returning(generation))).first())


async def claim_due(session: AsyncSession, batch: int, lease_s: float) -> list[Generation]:
    """Due active jobs, each leased to this worker (``FOR UPDATE SKIP LOCKED``)."""
    due = (
        sa.select(generation.c.id)
        .where(generation.c.status.in_(ACTIVE), generation.c.next_check_at <= sa.func.now())
        .order_by(generation.c.next_check_at)
        .limit(batch)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    query = (
        sa.update(generation)
        .where(generation.c.id.in_(due))
        .values(next_check_at=sa.func.now() + timedelta(seconds=lease_s))
        .returning(generation)
    )
    return [to_generation(r) for r in (await session.execute(query)).all()]


async def inputs_used_elsewhere(
    session: AsyncSession, user_id: uuid.UUID, generation_id: uuid.UUID, file_ids: list[str]
) -> set[str]:
    """Input files another of the user's generations still needs (for its Repeat)."""
    if not file_ids:
        return set()
    rows = (
        await session.execute(
            sa.select(generation.c.input_file_ids).where(
                generation.c.user_id == user_id, generation.c.id != generation_id
            )
        )
    ).all()
    used = {str(f) for row in rows for f in row.input_file_ids}
    return used & set(file_ids)


async def delete_generation(session: AsyncSession, generation_id: uuid.UUID) -> None:
    """Remove one job's row (its events are published by the caller)."""
    await session.execute(sa.delete(generation).where(generation.c.id == generation_id))


async def user_generations(
    session: AsyncSession, user_id: uuid.UUID, *, lock: bool = False
) -> list[Generation]:
    """Every job of the user, oldest first (optionally locked, for an erasure)."""
    query = sa.select(generation).where(generation.c.user_id == user_id).order_by(generation.c.created_at)
    if lock:
        query = query.with_for_update()
    return [to_generation(r) for r in (await session.execute(query)).all()]


async def stream_user_generations(
    session: AsyncSession, user_id: uuid.UUID, batch: int = 500
) -> AsyncIterator[Generation]:
    """Every job of the user, oldest first, from a server-side cursor (``batch`` rows at a
    time): an export of any size never holds the whole list."""
    query = sa.select(generation).where(generation.c.user_id == user_id).order_by(generation.c.created_at)
    result = await session.stream(query.execution_options(yield_per=batch))
    try:
        async for row in result:
            yield to_generation(row)
    finally:
        await result.close()


async def delete_user_data(session: AsyncSession, user_id: uuid.UUID) -> int:
    """Delete the user's jobs and restriction; returns how many restriction rows went."""
    await session.execute(sa.delete(generation).where(generation.c.user_id == user_id))
    result = await session.execute(
        sa.delete(processing_restriction).where(processing_restriction.c.user_id == user_id)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def failed_jobs(session: AsyncSession, limit: int) -> list[Generation]:
    """The most recently failed jobs."""
    rows = (
        await session.execute(
            sa.select(generation)
            .where(generation.c.status == "failed")
            .order_by(generation.c.finished_at.desc())
            .limit(limit)
        )
    ).all()
    return [to_generation(r) for r in rows]


async def overdue_jobs_due_now(session: AsyncSession) -> int:
    """Make jobs past their deadline (but leased far ahead) due now; returns how many."""
    result = await session.execute(
        sa.update(generation)
        .where(
            generation.c.status.in_(ACTIVE),
            generation.c.deadline_at < sa.func.now(),
            generation.c.next_check_at > sa.func.now(),
        )
        .values(next_check_at=sa.func.now())
        .returning(generation.c.id)
    )
    return len(result.all())


async def count_user_rows(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    """What remains of the user in generation's own tables."""

    async def count(table: sa.Table, where: sa.ColumnElement[bool]) -> int:
        query = sa.select(sa.func.count()).select_from(table).where(where)
        return int((await session.execute(query)).scalar_one())

    return {
        "generations": await count(generation, generation.c.user_id == user_id),
        "processing_restrictions": await count(
            processing_restriction, processing_restriction.c.user_id == user_id
        ),
    }


async def is_restricted(session: AsyncSession, user_id: uuid.UUID) -> bool:
    """True while the user's processing is restricted."""
    row = (
        await session.execute(
            sa.select(processing_restriction.c.user_id).where(processing_restriction.c.user_id == user_id)
        )
    ).first()
    return row is not None


async def set_restriction(session: AsyncSession, user_id: uuid.UUID, restricted: bool) -> None:
    """Record or lift a restriction (idempotent either way)."""
    if restricted:
        await session.execute(
            sa.text("INSERT INTO processing_restriction (user_id) VALUES (:u) ON CONFLICT DO NOTHING"),
            {"u": user_id},
        )
    else:
        await session.execute(
            sa.delete(processing_restriction).where(processing_restriction.c.user_id == user_id)
        )


async def make_running_job_due(
    session: AsyncSession,
    provider: str,
    backoff: timedelta,
    *,
    provider_job_id: str | None = None,
    generation_id: uuid.UUID | None = None,
) -> None:
    """Make the running job (by provider job id or by id) due now, unless it is leased:
    a job waiting out a poll backoff is due within ``backoff``, one further out is being
    worked on."""
    query = sa.update(generation).where(
        generation.c.provider == provider,
        generation.c.status == "running",
        generation.c.next_check_at < sa.func.now() + backoff,
    )
    if provider_job_id is not None:
        query = query.where(generation.c.provider_job_id == provider_job_id)
    if generation_id is not None:
        query = query.where(generation.c.id == generation_id)
    await session.execute(query.values(next_check_at=sa.func.now()))
