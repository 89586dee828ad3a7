"""The privacy service as a participant like any other: erasing, counting and exporting what it
holds of a user (consents, requests, restrictions, minor reports, published messages).

Decision on consent records at erasure: they are deleted, not kept pseudonymised. They prove the
lawfulness of processing based on consent (marketing, analytics, policy acceptance), and once
the account is erased no such processing continues, so the proof no longer has a purpose that
outweighs Art. 17. What remains is the erasure request itself, pseudonymised when the
certificate is issued (only a peppered hash of the user id stays).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiflux_kit.erasure import forget_user_messages, messaging_residue
from sqlalchemy import ColumnElement, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.orm import (
    consent_link,
    consent_record,
    minor_report,
    privacy_request,
    request_step,
    restriction,
)
from .consents import ledger, records_of_user


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


async def erase_user(
    session: AsyncSession, user_id: uuid.UUID, keep_request: uuid.UUID, name_sha256: str | None = None
) -> dict[str, int]:
    """Delete everything privacy holds of the user except the erasure request being tracked."""
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


async def remaining_of_user(
    session: AsyncSession, user_id: uuid.UUID, tracked_request: uuid.UUID
) -> dict[str, int]:
    """What privacy still holds of the user (the tracked erasure request aside), its messaging
    included."""
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


async def export_document(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """``privacy.json``: the user's consents and data-subject requests."""
    requests = (
        await session.execute(
            select(privacy_request)
            .where(privacy_request.c.user_id == user_id)
            .order_by(privacy_request.c.received_at)
        )
    ).all()
    return {
        "service": "privacy",
        "user_id": str(user_id),
        "consents": await ledger(session, user_id),
        "requests": [
            {
                "id": str(r.id),
                "type": r.type,
                "status": r.status,
                "details": r.details,
                "received_at": r.received_at.isoformat(),
                "due_at": r.due_at.isoformat(),
                "outcome": r.outcome,
                "answer": r.answer,
                "extension_reason": r.extension_reason,
            }
            for r in requests
        ],
    }
