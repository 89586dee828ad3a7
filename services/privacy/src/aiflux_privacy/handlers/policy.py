"""Privacy-policy versions: the one in force, the history, and publishing a new one (§9)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from aiflux_contracts import PolicyPublished
from aiflux_kit.errors import Problem
from aiflux_kit.outbox import add_event
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.orm import policy_version


def version_view(row: Any, *, with_text: bool = True) -> dict[str, Any]:
    """A policy version as clients see it."""
    view = {"version": row.version, "effective_at": row.effective_at,
            "substantial": row.substantial, "published_at": row.published_at}
    if with_text:
        view["text"] = row.text
    return view


async def current_policy(session: AsyncSession, now: datetime | None = None) -> Any:
    """The version in force: the newest whose effective date has come."""
    now = now or datetime.now(UTC)
    row = (await session.execute(select(policy_version).where(
        policy_version.c.effective_at <= now).order_by(
        policy_version.c.effective_at.desc(), policy_version.c.published_at.desc()))).first()
    if row is None:
        raise Problem(404, "no-policy", "No policy in force", "No privacy policy is in force.")
    return row


async def all_versions(session: AsyncSession) -> list[Any]:
    """Every published version, newest first."""
    return list((await session.execute(select(policy_version).order_by(
        policy_version.c.effective_at.desc()))).all())


async def publish(session: AsyncSession, admin_id: uuid.UUID, version: str, text: str,
                  substantial: bool, effective_at: datetime | None) -> Any:
    """Publish a version: identity mails every user and, when substantial, asks re-acceptance."""
    effective_at = effective_at or datetime.now(UTC)
    inserted = (await session.execute(pg_insert(policy_version).values(
        version=version, text=text, substantial=substantial, effective_at=effective_at,
        published_by=admin_id).on_conflict_do_nothing().returning(policy_version))).first()
    if inserted is None:
        raise Problem(409, "version-exists", "Version exists",
                      f"Policy version {version!r} is already published; versions never change.")
    await add_event(session, PolicyPublished(version=version, substantial=substantial,
                                             effective_at=effective_at))
    return inserted
