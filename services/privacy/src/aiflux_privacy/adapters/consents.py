"""The consent ledger's tables: append-only records and the links of anonymous consent ids to
users, answered as ``ConsentRecord``s."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, and_, exists, insert, or_, select
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
