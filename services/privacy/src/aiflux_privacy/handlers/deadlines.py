"""The ``request-deadlines`` sweep: counts open requests that are overdue or due soon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiflux_kit.db import Database
from sqlalchemy import func, select

from ..adapters.orm import privacy_request
from ..domain.requests import OPEN


async def flag_overdue(database: Database) -> dict[str, int]:
    """Open requests past their due date, and those due within 7 days (shown to ops)."""
    now = datetime.now(UTC)
    standing = [*OPEN]
    async with database.transaction() as session:
        overdue = (
            await session.execute(
                select(func.count()).where(
                    privacy_request.c.status.in_(standing), privacy_request.c.due_at < now
                )
            )
        ).scalar_one()
        soon = (
            await session.execute(
                select(func.count()).where(
                    privacy_request.c.status.in_(standing),
                    privacy_request.c.due_at >= now,
                    privacy_request.c.due_at < now + timedelta(days=7),
                )
            )
        ).scalar_one()
    return {"overdue": int(overdue), "due_within_7_days": int(soon)}
