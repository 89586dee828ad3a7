"""Which privacy-policy version is in force, which ones a user may accept, and whether a
user's acceptance still stands (§4, §9).

Identity learns every version and its effective date from privacy's ``PolicyPublished``. A
version published ahead of its date is *scheduled*: it changes nothing until the date comes,
and then takes effect here by itself, because every answer compares ``effective_at`` with
the clock (nobody has to publish anything at that moment).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiflux_kit.errors import Problem
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.orm import policy_versions
from ..settings import INITIAL_POLICY_VERSION
from .common import utcnow


async def current_policy_version(session: AsyncSession, now: datetime | None = None) -> str:
    """The version in force: the newest whose effective date has come."""
    row = (await session.execute(
        select(policy_versions.c.version)
        .where(policy_versions.c.effective_at <= (now or utcnow()))
        .order_by(policy_versions.c.effective_at.desc(), policy_versions.c.recorded_at.desc())
        .limit(1))).first()
    return row[0] if row else INITIAL_POLICY_VERSION


async def acceptable_policy_versions(session: AsyncSession,
                                     now: datetime | None = None) -> tuple[str, list[str]]:
    """The version in force and the scheduled ones, which a user may accept ahead of time.

    Accepting both in the window before a switch keeps a registration form that was loaded
    just before the effective date valid just after it, and lets a user who read the notice
    mail accept the coming version at once (no second prompt when it takes effect).
    """
    now = now or utcnow()
    scheduled = (await session.execute(
        select(policy_versions.c.version).where(policy_versions.c.effective_at > now)
        .order_by(policy_versions.c.effective_at))).scalars().all()
    return await current_policy_version(session, now), list(scheduled)


async def policy_accepted(session: Any, accepted_version: str, now: datetime | None = None
                          ) -> bool:
    """False when a substantial version newer than the accepted one is in force."""
    accepted_at = (select(policy_versions.c.effective_at)
                   .where(policy_versions.c.version == accepted_version).scalar_subquery())
    newer = select(policy_versions.c.version).where(
        policy_versions.c.substantial, policy_versions.c.effective_at <= (now or utcnow()),
        or_(accepted_at.is_(None), policy_versions.c.effective_at > accepted_at)).limit(1)
    return (await session.execute(newer)).first() is None


async def acceptable_version(session: AsyncSession, version: str, purpose: str) -> str:
    """``version`` when a user may accept it now; otherwise a 422 naming the one in force."""
    in_force, scheduled = await acceptable_policy_versions(session)
    if version == in_force or version in scheduled:
        return version
    coming = f" (version {', '.join(scheduled)} is scheduled and may be accepted too)" \
        if scheduled else ""
    raise Problem(422, "policy-version-mismatch", "Privacy policy version",
                  f"Accept the privacy policy in force (version {in_force}) {purpose}{coming}.",
                  current_version=in_force, scheduled_versions=scheduled)
