"""Everything the privacy tables hold of one user, found, counted and deleted together (the
privacy service as a participant of erasure and export)."""

from __future__ import annotations

import uuid
from typing import Any

from aiflux_kit.erasure import forget_user_messages, messaging_residue
from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from .consents import records_of_user
from .orm import consent_link, consent_record, minor_report, privacy_request, request_step, restriction


def reports_naming(user_id: uuid.UUID, name_sha256: str | None = None) -> ColumnElement[bool]:
    """Minor reports about the user: confirmed for the account, naming its id or its username
    (``name_sha256``, from ``UserDeleted``), or naming the account the same way as a report that
    was confirmed for it (the username and free text of every report about it go with it)."""
    named = func.lower(func.trim(minor_report.c.account))
    confirmed_names = (
        select(func.lower(func.trim(minor_report.c.account)))
        .where(minor_report.c.user_id == user_id)
        .scalar_subquery()
    )
    conditions = [minor_report.c.user_id == user_id, named == str(user_id), named.in_(confirmed_names)]
    if name_sha256:
        conditions.append(func.encode(func.sha256(func.convert_to(named, "UTF8")), "hex") == name_sha256)
    return or_(*conditions)


def _steps_of_requests(user_id: uuid.UUID, keep_request: uuid.UUID) -> ColumnElement[bool]:
    return request_step.c.request_id.in_(
        select(privacy_request.c.id).where(
            privacy_request.c.user_id == user_id, privacy_request.c.id != keep_request
        )
    )


async def delete_of_user(
    session: AsyncSession, user_id: uuid.UUID, keep_request: uuid.UUID, name_sha256: str | None = None
) -> dict[str, int]:
    """Delete every row of the user except the erasure request being tracked; rows per table
    (the outbox's messages about the user included)."""
    statements = {
        "minor_reports": delete(minor_report).where(reports_naming(user_id, name_sha256)),
        "request_steps": delete(request_step).where(_steps_of_requests(user_id, keep_request)),
        "consent_records": delete(consent_record).where(await records_of_user(session, user_id)),
        "consent_links": delete(consent_link).where(consent_link.c.user_id == user_id),
        "restrictions": delete(restriction).where(restriction.c.user_id == user_id),
        "requests": delete(privacy_request).where(
            privacy_request.c.user_id == user_id, privacy_request.c.id != keep_request
        ),
    }
    counts: dict[str, int] = {}
    for name, statement in statements.items():
        result: Any = await session.execute(statement)
        counts[name] = int(result.rowcount or 0)
    counts["outbox_events"] = await forget_user_messages(session, user_id)
    return counts


async def count_of_user(
    session: AsyncSession, user_id: uuid.UUID, tracked_request: uuid.UUID
) -> dict[str, int]:
    """Rows of the user per table (the tracked erasure request aside), messaging included."""
    queries = {
        "minor_reports": select(func.count()).where(reports_naming(user_id)),
        "request_steps": select(func.count()).where(_steps_of_requests(user_id, tracked_request)),
        "consent_records": select(func.count()).where(await records_of_user(session, user_id)),
        "consent_links": select(func.count()).where(consent_link.c.user_id == user_id),
        "restrictions": select(func.count()).where(restriction.c.user_id == user_id),
        "requests": select(func.count()).where(
            privacy_request.c.user_id == user_id, privacy_request.c.id != tracked_request
        ),
    }
    counts = {name: int((await session.execute(q)).scalar_one()) for name, q in queries.items()}
    return {**counts, **await messaging_residue(session, user_id)}
