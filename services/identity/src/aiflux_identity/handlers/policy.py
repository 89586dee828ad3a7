"""Which privacy-policy version is in force, which ones a user may accept, and whether a
user's acceptance still stands (§4, §9).

Identity learns every version and its effective date from privacy's ``PolicyPublished``. A
version published ahead of its date is *scheduled*: it changes nothing until the date comes,
and then takes effect here by itself, because every answer compares ``effective_at`` with
the clock (nobody has to publish anything at that moment).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import policies
from ..domain.errors import PolicyVersionMismatch
from ..settings import INITIAL_POLICY_VERSION
from .common import utcnow


async def current_policy_version(session: AsyncSession, now: datetime | None = None) -> str:
    """The version in force: the newest whose effective date has come."""
    version = await policies.version_in_force(session, now or utcnow())
    return version or INITIAL_POLICY_VERSION


@dataclass(frozen=True)
class AcceptableVersions:
    """What a user may accept now: the version in force, the one it replaced a moment ago
    (within the switch grace), and the scheduled ones."""

    in_force: str
    just_replaced: str | None
    scheduled: list[str]

    def __contains__(self, version: object) -> bool:
        return version in (self.in_force, self.just_replaced, *self.scheduled)


async def acceptable_policy_versions(
    session: AsyncSession, switch_grace: timedelta, now: datetime | None = None
) -> AcceptableVersions:
    """The versions a user may accept now.

    Accepting a scheduled one lets a user who read the notice mail accept the coming version
    at once (no second prompt when it takes effect). The grace keeps a registration form
    loaded just before the switch valid just after it; such an account records the version it
    accepted and is asked to accept the new one on first use.
    """
    now = now or utcnow()
    scheduled = await policies.scheduled_versions(session, now)
    in_force = await current_policy_version(session, now)
    before = await current_policy_version(session, now - switch_grace)
    return AcceptableVersions(in_force, before if before != in_force else None, scheduled)


async def acceptable_version(
    session: AsyncSession, version: str, purpose: str, switch_grace: timedelta = timedelta(0)
) -> str:
    """``version`` when a user may accept it now; otherwise :class:`PolicyVersionMismatch`."""
    acceptable = await acceptable_policy_versions(session, switch_grace)
    if version in acceptable:
        return version
    raise PolicyVersionMismatch(acceptable.in_force, acceptable.scheduled, purpose)
