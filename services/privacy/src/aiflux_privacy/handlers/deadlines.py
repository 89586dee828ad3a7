"""The ``request-deadlines`` sweep: counts open requests that are overdue or due soon."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from aiflux_kit.db import Database

from ..adapters.repositories import count_due, count_overdue
from ..domain.requests import OPEN


async def flag_overdue(database: Database) -> dict[str, int]:
    """Open requests past their due date, and those due within 7 days (shown to ops)."""
    now = datetime.now(UTC)
    standing = [*OPEN]
    async with database.transaction() as session:
        overdue = await count_overdue(session, standing, now)
        soon = await count_due(session, standing, now, now + timedelta(days=7))
    return {"overdue": int(overdue), "due_within_7_days": int(soon)}
