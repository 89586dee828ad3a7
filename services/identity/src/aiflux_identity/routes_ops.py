"""Identity's ops routes (admin only); every call is written to the security log."""

from __future__ import annotations

import uuid
from typing import Any

from aiflux_kit.auth import Principal, current_admin
from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import select

from .adapters.orm import policy_notices, security_log
from .handlers.common import ClientInfo, IdentityContainer, log_security_event


async def record_admin_access(admin: Principal, request: Request) -> None:
    """Identity's admin audit sink: every admin call to its ops routes (its own and the kit's
    generic ones) is an ``admin_access`` row of the security log."""
    c: IdentityContainer = request.app.state.services["identity"]
    client = ClientInfo(ip=request.client.host if request.client else None,
                        user_agent=request.headers.get("user-agent"))
    async with c.database.transaction() as session:
        await log_security_event(session, "admin_access", admin.user_id, client,
                                 method=request.method, path=request.url.path)


def ops_router() -> APIRouter:
    """``/v1/ops/identity/...`` beyond the kit's generic ones."""
    router = APIRouter(prefix="/v1/ops/identity", tags=["ops: identity"],
                       dependencies=[Depends(current_admin)])

    @router.get("/policy-notices")
    async def notices(request: Request) -> dict[str, Any]:
        """Progress of the mails announcing substantial policy changes."""
        c: IdentityContainer = request.app.state.services["identity"]
        async with c.database.transaction() as session:
            rows = (await session.execute(select(policy_notices)
                                          .order_by(policy_notices.c.started_at.desc()))).all()
        return {"items": [{"version": r.version, "total": r.total, "sent": r.sent,
                           "started_at": r.started_at, "finished_at": r.finished_at,
                           "done": r.finished_at is not None} for r in rows],
                "next_cursor": None}

    @router.get("/security-log")
    async def read_security_log(request: Request, user_id: uuid.UUID | None = None,
                                limit: int = Query(100, ge=1, le=500),
                                cursor: int | None = Query(None, ge=1, le=2**63 - 1)
                                ) -> dict[str, Any]:
        """Security-log rows, newest first (optionally of one user)."""
        c: IdentityContainer = request.app.state.services["identity"]
        query = select(security_log).order_by(security_log.c.id.desc()).limit(limit + 1)
        if user_id:
            query = query.where(security_log.c.user_id == user_id)
        if cursor:
            query = query.where(security_log.c.id < cursor)
        async with c.database.transaction() as session:
            rows = (await session.execute(query)).all()
        items = [dict(r._mapping) for r in rows[:limit]]
        return {"items": items,
                "next_cursor": str(rows[limit - 1].id) if len(rows) > limit else None}

    return router
