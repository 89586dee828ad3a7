"""Reports of accounts held by someone under 16 (§8): anyone reports, an operator reviews, a
confirmed report suspends the account and erases it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiflux_contracts import ErasureRequested
from aiflux_kit.erasure import is_erased
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.peers import IdentityClient
from ..adapters.repositories import (
    add_minor_report,
    add_request,
    find_minor_report,
    open_minor_reports,
    set_minor_report,
)
from ..domain.errors import AccountErased, NotFound, ReportDecided, UserIdRequired
from ..domain.requests import RequestType, Status, due_date


async def report(session: AsyncSession, account: str, details: str | None) -> uuid.UUID:
    """Record a report (the reporter stays anonymous)."""
    report_id = uuid.uuid4()
    await add_minor_report(session, report_id, account, details)
    return report_id


async def open_reports(session: AsyncSession) -> list[dict[str, Any]]:
    """Reports waiting for review, oldest first."""
    rows = await open_minor_reports(session)
    return [
        {"id": str(r.id), "account": r.account, "details": r.details, "created_at": r.created_at}
        for r in rows
    ]


async def decide(
    session: AsyncSession,
    identity: IdentityClient,
    report_id: uuid.UUID,
    confirmed: bool,
    reason: str,
    user_id: uuid.UUID | None,
) -> dict[str, Any]:
    """Dismiss a report, or confirm it: suspend the account, then erase it (reason "minor")."""
    row = await find_minor_report(session, report_id)
    if row is None:
        raise NotFound("report")
    if row.status != "open":
        raise ReportDecided("This report was decided.")
    values: dict[str, Any] = {
        "decision_reason": reason,
        "decided_at": datetime.now(UTC),
        "status": "dismissed",
    }
    if confirmed:
        if user_id is None:
            raise UserIdRequired("Confirming a report needs the account's user_id.")
        # An erased account is gone already; nothing may name it again here.
        if await is_erased(session, user_id):
            raise AccountErased()
        await identity.suspend(user_id, "minor")
        request_id = uuid.uuid4()
        now = datetime.now(UTC)
        await add_request(
            session,
            request_id,
            user_id,
            RequestType.ERASURE,
            Status.IN_PROGRESS,
            now,
            due_date(now),
            source="minor",
        )
        await add_event(session, ErasureRequested(request_id=request_id, user_id=user_id, reason="minor"))
        values.update(status="confirmed", user_id=user_id, erasure_request_id=request_id)
    await set_minor_report(session, report_id, **values)
    return {
        "id": str(report_id),
        "status": values["status"],
        "erasure_request_id": str(values.get("erasure_request_id") or "") or None,
    }
