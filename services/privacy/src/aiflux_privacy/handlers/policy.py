"""Privacy-policy versions: the one in force, the history, and publishing a new one (§9).

A version may be published ahead of its effective date. Until then it is *scheduled*: the
notice mail goes out at once (§9), but the version in force, and what registration must
accept, change only when the date comes. Nobody has to publish anything at that moment:
every reader compares ``effective_at`` with the clock.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiflux_contracts import PolicyPublished
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.repositories import add_policy, policy_in_force, policy_versions
from ..domain.errors import EffectiveDateInPast, NoPolicy, VersionExists
from ..domain.records import PolicyVersion

CLOCK_SKEW = timedelta(minutes=5)
"""How far in the past an ``effective_at`` may lie (an operator's clock, a slow request)."""

Status = Literal["scheduled", "in_force", "superseded"]


def version_view(row: PolicyVersion, status: Status, *, with_text: bool = True) -> dict[str, Any]:
    """A policy version as clients see it."""
    view = {
        "version": row.version,
        "effective_at": row.effective_at,
        "substantial": row.substantial,
        "published_at": row.published_at,
        "status": status,
    }
    if with_text:
        view["text"] = row.text
    return view


async def current_policy(session: AsyncSession, now: datetime | None = None) -> PolicyVersion:
    """The version in force: the newest whose effective date has come."""
    row = await policy_in_force(session, now or datetime.now(UTC))
    if row is None:
        raise NoPolicy("No privacy policy is in force.")
    return row


async def all_versions(
    session: AsyncSession, now: datetime | None = None
) -> list[tuple[PolicyVersion, Status]]:
    """Every published version, newest first, each with its status at ``now``."""
    now = now or datetime.now(UTC)
    in_force = await policy_in_force(session, now)
    rows = await policy_versions(session)
    return [(row, _status(row, in_force, now)) for row in rows]


def _status(row: PolicyVersion, in_force: PolicyVersion | None, now: datetime) -> Status:
    if row.effective_at > now:
        return "scheduled"
    return "in_force" if in_force is not None and row.version == in_force.version else "superseded"


async def publish(
    session: AsyncSession,
    admin_id: uuid.UUID,
    version: str,
    text: str,
    substantial: bool,
    effective_at: datetime | None,
) -> tuple[PolicyVersion, Status]:
    """Publish a version, in force now or at ``effective_at`` (never in the past).

    Identity learns the schedule from ``PolicyPublished``: it mails every user at once when
    the change is substantial, and asks for re-acceptance once the version is in force.
    """
    now = datetime.now(UTC)
    if effective_at is not None and effective_at < now - CLOCK_SKEW:
        raise EffectiveDateInPast(
            "A policy version takes effect now or later; users cannot have been "
            "told of a change that already applies. Leave effective_at out to "
            "publish it in force now.",
            effective_at=effective_at.isoformat(),
        )
    effective_at = max(effective_at or now, now)  # within the skew: in force from now
    inserted = await add_policy(session, version, text, substantial, effective_at, admin_id)
    if inserted is None:
        raise VersionExists(f"Policy version {version!r} is already published; versions never change.")
    await add_event(
        session, PolicyPublished(version=version, substantial=substantial, effective_at=effective_at)
    )
    return inserted, "scheduled" if effective_at > now else "in_force"
