"""What admins see and leave behind: the ops views and the ``admin_access`` audit rows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..adapters import audit_log
from ..adapters.audit_log import NoticeRun, SecurityEvent
from ..adapters.credentials import log_security_event
from .common import ClientInfo

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer


@dataclass(frozen=True)
class SecurityLogPage:
    """One page of the security log; ``next_cursor`` is the id to continue below."""

    entries: list[SecurityEvent]
    next_cursor: str | None


async def record_admin_access(
    c: IdentityContainer, admin_id: uuid.UUID, client: ClientInfo, *, method: str, path: str
) -> None:
    """Write an ``admin_access`` row for one admin call."""
    async with c.database.transaction() as session:
        await log_security_event(session, "admin_access", admin_id, client, method=method, path=path)


async def notice_runs(c: IdentityContainer) -> list[NoticeRun]:
    """Progress of the policy-change notice runs, newest first."""
    async with c.database.transaction() as session:
        return await audit_log.notice_runs(session)


async def security_log_page(
    c: IdentityContainer, user_id: uuid.UUID | None, limit: int, cursor: int | None
) -> SecurityLogPage:
    """Security-log rows, newest first, below ``cursor``."""
    async with c.database.transaction() as session:
        events = await audit_log.security_events(session, user_id, limit + 1, cursor)
    more = len(events) > limit
    return SecurityLogPage(events[:limit], str(events[limit - 1].id) if more else None)
