"""The consent ledger: append-only records, the standing state, and linking anonymous visitors."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aiflux_contracts import ConsentChanged
from aiflux_kit.outbox import add_event
from sqlalchemy import insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.orm import consent_link, consent_record
from ..domain.consent import ConsentState, Purpose, allowed, current_state

SubjectKind = Literal["user", "anonymous"]


async def record_consent(
    session: AsyncSession, subject_id: uuid.UUID, kind: SubjectKind, purpose: str,
    granted: bool, source: str, policy_version: str | None = None,
) -> None:
    """Append one consent record and announce it (``ConsentChanged``)."""
    await session.execute(insert(consent_record).values(
        subject_id=subject_id, subject_kind=kind, purpose=purpose, granted=granted,
        source=source, policy_version=policy_version))
    await add_event(session, ConsentChanged(subject_id=subject_id, subject_kind=kind,
                                            purpose=purpose, granted=granted))


async def consent_state(session: AsyncSession, subject_id: uuid.UUID) -> dict[str, ConsentState]:
    """The standing consent per purpose of one subject."""
    rows = (await session.execute(select(consent_record).where(
        consent_record.c.subject_id == subject_id).order_by(consent_record.c.id))).all()
    return current_state([ConsentState(r.purpose, r.granted, r.recorded_at, r.policy_version,
                                       r.source) for r in rows])


def state_view(kind: SubjectKind, state: dict[str, ConsentState]) -> dict[str, Any]:
    """What a client is told: each purpose's standing consent, and whether analytics may load."""
    purposes: dict[str, Any] = {}
    for purpose in (Purpose.MARKETING, Purpose.ANALYTICS):
        entry = state.get(purpose)
        purposes[purpose] = {"granted": bool(entry and entry.granted),
                             "recorded_at": entry.recorded_at if entry else None}
    policy = state.get(Purpose.PRIVACY_POLICY)
    return {
        "subject_kind": kind,
        "consents": purposes,
        "accepted_policy_version": policy.policy_version if policy else None,
        "analytics_allowed": allowed(state, Purpose.ANALYTICS),
    }


async def link_anonymous(session: AsyncSession, anonymous_id: uuid.UUID,
                         user_id: uuid.UUID) -> int:
    """Attach an anonymous visitor's consents to the user who signed in with that cookie.

    A purpose the visitor decided after the user's own last decision is copied into the user's
    ledger (the newer choice stands). Linking twice, or a cookie already linked to another
    user, changes nothing. Returns how many purposes were taken over.
    """
    linked = (await session.execute(pg_insert(consent_link).values(
        anonymous_id=anonymous_id, user_id=user_id).on_conflict_do_nothing().returning(
        consent_link.c.user_id))).first()
    if linked is None:
        return 0
    visitor = await consent_state(session, anonymous_id)
    user = await consent_state(session, user_id)
    taken = 0
    for purpose, entry in visitor.items():
        own = user.get(purpose)
        if own is None or own.recorded_at < entry.recorded_at:
            await record_consent(session, user_id, "user", purpose, entry.granted,
                                 "linked-anonymous", entry.policy_version)
            taken += 1
    return taken


async def linked_anonymous_ids(session: AsyncSession, user_id: uuid.UUID) -> list[uuid.UUID]:
    """Consent cookies linked to the user (personal data of the user once linked)."""
    return list((await session.execute(select(consent_link.c.anonymous_id).where(
        consent_link.c.user_id == user_id))).scalars())


async def ledger(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every consent record of the user (for the export)."""
    subjects = [user_id, *await linked_anonymous_ids(session, user_id)]
    rows = (await session.execute(select(consent_record).where(
        consent_record.c.subject_id.in_(subjects)).order_by(consent_record.c.id))).all()
    return [{"purpose": r.purpose, "granted": r.granted, "subject_kind": r.subject_kind,
             "policy_version": r.policy_version, "source": r.source,
             "recorded_at": r.recorded_at.isoformat()} for r in rows]
