"""The consent ledger: append-only records, the standing state, and linking anonymous visitors."""

from __future__ import annotations

import uuid
from typing import Any, Literal

from aiflux_contracts import ConsentChanged
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import consents as ledger_table
from ..domain.consent import ConsentState, Purpose, allowed, current_state
from ..domain.consent_id import is_issued_consent_id

SubjectKind = Literal["user", "anonymous"]


async def record_consent(
    session: AsyncSession,
    subject_id: uuid.UUID,
    kind: SubjectKind,
    purpose: str,
    granted: bool,
    source: str,
    policy_version: str | None = None,
) -> None:
    """Append one consent record and announce it (``ConsentChanged``)."""
    await ledger_table.append_record(session, subject_id, kind, purpose, granted, source, policy_version)
    await add_event(
        session, ConsentChanged(subject_id=subject_id, subject_kind=kind, purpose=purpose, granted=granted)
    )


async def consent_state(
    session: AsyncSession, subject_id: uuid.UUID, kind: SubjectKind = "user"
) -> dict[str, ConsentState]:
    """The standing consent per purpose of one subject (only records of that subject kind)."""
    rows = await ledger_table.records_of_subject(session, subject_id, kind)
    return current_state(
        [ConsentState(r.purpose, r.granted, r.recorded_at, r.policy_version, r.source) for r in rows]
    )


def state_view(kind: SubjectKind, state: dict[str, ConsentState]) -> dict[str, Any]:
    """What a client is told: each purpose's standing consent, and whether analytics may load."""
    purposes: dict[str, Any] = {}
    for purpose in (Purpose.MARKETING, Purpose.ANALYTICS):
        entry = state.get(purpose)
        purposes[purpose] = {
            "granted": bool(entry and entry.granted),
            "recorded_at": entry.recorded_at if entry else None,
        }
    policy = state.get(Purpose.PRIVACY_POLICY)
    return {
        "subject_kind": kind,
        "consents": purposes,
        "accepted_policy_version": policy.policy_version if policy else None,
        "analytics_allowed": allowed(state, Purpose.ANALYTICS),
    }


async def link_anonymous(
    session: AsyncSession, anonymous_id: uuid.UUID, user_id: uuid.UUID, secret: str
) -> int:
    """Attach an anonymous visitor's consents to the user who signed in with that cookie.

    Only an id privacy issued (signed with ``secret``) is linked, and only its anonymous
    records are taken; an id that holds user records, or is already linked (to anyone), is left
    alone. A purpose the visitor decided after the user's own last decision is copied into the
    user's ledger (the newer choice stands). Returns how many purposes were taken over.
    """
    if anonymous_id == user_id or not is_issued_consent_id(anonymous_id, secret):
        return 0
    if await ledger_table.holds_non_anonymous_records(session, anonymous_id):
        return 0
    if not await ledger_table.link(session, anonymous_id, user_id):
        return 0
    visitor = await consent_state(session, anonymous_id, "anonymous")
    user = await consent_state(session, user_id, "user")
    taken = 0
    for purpose, entry in visitor.items():
        own = user.get(purpose)
        if own is None or own.recorded_at < entry.recorded_at:
            await record_consent(
                session, user_id, "user", purpose, entry.granted, "linked-anonymous", entry.policy_version
            )
            taken += 1
    return taken


async def ledger(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every consent record of the user (for the export)."""
    rows = await ledger_table.ledger_of_user(session, user_id)
    return [
        {
            "purpose": r.purpose,
            "granted": r.granted,
            "subject_kind": r.subject_kind,
            "policy_version": r.policy_version,
            "source": r.source,
            "recorded_at": r.recorded_at.isoformat(),
        }
        for r in rows
    ]
