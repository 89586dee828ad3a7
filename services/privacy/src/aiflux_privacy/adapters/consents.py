"""The consent ledger's tables: append-only records and the links of anonymous consent ids to
users, answered as ``ConsentRecord``s."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, insert, or_, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import ConsentRecord
from .orm import consent_link, consent_record


async def append_record(
    session: AsyncSession,
    subject_id: uuid.UUID,
    kind: str,
    purpose: str,
    granted: bool,
    source: str,
    policy_version: str | None,
) -> None:
    """Append one record to the ledger."""
    await session.execute(
        insert(consent_record).values(
            subject_id=subject_id,
            subject_kind=kind,
            purpose=purpose,
            granted=granted,
            source=source,
            policy_version=policy_version,
        )
    )


async def records_of_subject(session: AsyncSession, subject_id: uuid.UUID, kind: str) -> list[ConsentRecord]:
    """Every record of one subject of that kind, oldest first."""
    rows = (
        await session.execute(
            select(consent_record)
            .where(consent_record.c.subject_id == subject_id, consent_record.c.subject_kind == kind)
            .order_by(consent_record.c.id)
        )
    ).all()
    return [ConsentRecord(**row._mapping) for row in rows]


async def holds_non_anonymous_records(session: AsyncSession, subject_id: uuid.UUID) -> bool:
    """Whether the id has records of another kind than anonymous (a user's own id)."""
    found = await session.execute(
        select(
            exists().where(
                consent_record.c.subject_id == subject_id, consent_record.c.subject_kind != "anonymous"
            )
        )
    )
    return bool(found.scalar_one())


async def link(session: AsyncSession, anonymous_id: uuid.UUID, user_id: uuid.UUID) -> bool:
    """Link the anonymous id to the user; False when it is already linked (to anyone)."""
    linked = (
        await session.execute(
            pg_insert(consent_link)
            .values(anonymous_id=anonymous_id, user_id=user_id)
            .on_conflict_do_nothing()
            .returning(consent_link.c.user_id)
        )
    ).first()
    return linked is not None


async def linked_anonymous_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Consent cookies linked to the user (personal data of the user once linked)."""
    return list(
        (
            await session.execute(
                select(consent_link.c.anonymous_id).where(consent_link.c.user_id == user_id)
            )
        ).scalars()
    )


async def records_of_user(session: AsyncSession, user_id: uuid.UUID) -> ColumnElement[bool]:
    """Which consent records are the user's: the user's own (user kind) and the anonymous
    records of the consent ids linked to the user. Never another subject's records that happen
    to share an id."""
    own = and_(consent_record.c.subject_id == user_id, consent_record.c.subject_kind == "user")
    linked = await linked_anonymous_ids(session, user_id)
    if not linked:
        return own
    return or_(
        own, and_(consent_record.c.subject_id.in_(linked), consent_record.c.subject_kind == "anonymous")
    )


async def ledger_of_user(session: AsyncSession, user_id: uuid.UUID) -> list[ConsentRecord]:
    """Every consent record of the user, its linked cookies' included, oldest first."""
    rows = (
        await session.execute(
            select(consent_record)
            .where(await records_of_user(session, user_id))
            .order_by(consent_record.c.id)
        )
    ).all()
    return [ConsentRecord(**row._mapping) for row in rows]


# The newest marketing record of each user decides; restricted users get nothing (Art. 18).
_CONSENTING_USERS = text("""
    SELECT subject_id FROM (
        SELECT DISTINCT ON (subject_id) subject_id, granted FROM consent_record
        WHERE subject_kind = 'user' AND purpose = 'marketing'
        ORDER BY subject_id, id DESC) latest
    WHERE granted AND subject_id NOT IN (SELECT user_id FROM restriction)
    ORDER BY subject_id
""")


async def consenting_to_marketing(session: AsyncSession) -> list[uuid.UUID]:
    """Users whose marketing consent stands now and whose processing is not restricted."""
    return list((await session.execute(_CONSENTING_USERS)).scalars())


# A consent id whose newest record is past the period, and that no account took over.
_EXPIRED = text("""
    DELETE FROM consent_record WHERE subject_kind = 'anonymous' AND subject_id IN (
        SELECT subject_id FROM consent_record WHERE subject_kind = 'anonymous'
        GROUP BY subject_id HAVING max(recorded_at) < :cutoff)
      AND subject_id NOT IN (SELECT anonymous_id FROM consent_link)
""")


async def delete_idle_anonymous(session: AsyncSession, cutoff: datetime) -> int:
    """Delete the records of anonymous consent ids idle since before ``cutoff`` and never
    linked to an account; how many records went."""
    result = await session.execute(_EXPIRED, {"cutoff": cutoff})
    return int(getattr(result, "rowcount", 0) or 0)
