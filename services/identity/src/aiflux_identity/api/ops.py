"""Identity's ops routes (admin only); every call is written to the security log."""

from __future__ import annotations

import uuid
from typing import Annotated

from aiflux_kit.auth import Principal, current_admin
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Depends, Query, Request

from ..bootstrap import Container, IdentityContainer, client_info
from ..handlers import audit
from ..schemas import PolicyNoticeList, PolicyNoticeRun, SecurityLogEntry, SecurityLogPage

router = APIRouter(prefix="/v1/ops/identity", tags=["ops: identity"], dependencies=[Depends(current_admin)])

ADMIN = (401, 403)


async def record_admin_access(admin: Principal, request: Request) -> None:
    """Identity's admin audit sink: every admin call to its ops routes (its own and the kit's
    generic ones) is an ``admin_access`` row of the security log."""
    c: IdentityContainer = request.app.state.services["identity"]
    await audit.record_admin_access(
        c, admin.user_id, await client_info(request, c), method=request.method, path=request.url.path
    )


@router.get(
    "/policy-notices",
    response_model=PolicyNoticeList,
    summary="Progress of the policy-change notices",
    responses=problem_responses(*ADMIN, 503),
)
async def notices(c: Container) -> PolicyNoticeList:
    """Progress of the mails announcing substantial policy changes, newest first."""
    runs = await audit.notice_runs(c)
    return PolicyNoticeList(items=[PolicyNoticeRun.model_validate(r) for r in runs], next_cursor=None)


@router.get(
    "/security-log",
    response_model=SecurityLogPage,
    summary="Security-log rows",
    responses=problem_responses(*ADMIN, 422, 503),
)
async def read_security_log(
    c: Container,
    user_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[int | None, Query(ge=1, le=2**63 - 1)] = None,
) -> SecurityLogPage:
    """Security-log rows, newest first (optionally of one user); ``next_cursor`` pages on."""
    page = await audit.security_log_page(c, user_id, limit, cursor)
    return SecurityLogPage(
        items=[SecurityLogEntry.model_validate(e) for e in page.entries], next_cursor=page.next_cursor
    )
