"""Substantial policy changes (§9): record the version, mail every user in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aiflux_contracts import PolicyPublished
from aiflux_kit.service import Worker
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.orm import policy_notices, policy_versions, users
from ..domain import messages
from .common import utcnow

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer

log = logging.getLogger(__name__)


async def record_policy(session: AsyncSession, event: PolicyPublished) -> None:
    """Remember the version; a substantial one starts a notice run to every user."""
    await session.execute(
        insert(policy_versions)
        .values(
            version=event.version,
            substantial=event.substantial,
            effective_at=event.effective_at,
        )
        .on_conflict_do_nothing()
    )
    if not event.substantial:
        return
    total = (
        await session.execute(select(func.count()).select_from(users).where(users.c.deleted_at.is_(None)))
    ).scalar_one()
    await session.execute(
        insert(policy_notices).values(version=event.version, total=total).on_conflict_do_nothing()
    )


async def send_next_batch(c: IdentityContainer) -> int:
    """Mail the next batch of one unfinished run; the number of mails sent (0: nothing to do).

    The batch cursor advances in the same transaction that chose the batch, and the row stays
    locked while mailing, so two workers never mail the same user twice for one version.
    """
    async with c.database.transaction() as session:
        run = (
            await session.execute(
                select(policy_notices)
                .where(policy_notices.c.finished_at.is_(None))
                .order_by(policy_notices.c.started_at)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
        ).first()
        if run is None:
            return 0
        query = (
            select(users.c.id, users.c.email)
            .where(users.c.deleted_at.is_(None))
            .order_by(users.c.id)
            .limit(c.settings.policy_notice_batch_size)
        )
        if run.last_user_id is not None:
            query = query.where(users.c.id > run.last_user_id)
        batch = (await session.execute(query)).all()
        effective_at = (
            await session.execute(
                select(policy_versions.c.effective_at).where(policy_versions.c.version == run.version)
            )
        ).scalar_one()
        mail = messages.policy_changed(run.version, effective_at, utcnow(), c.link("/privacy-policy"))
        for user in batch:
            await c.mailer.send(user.email, mail)
        values: dict[str, object] = {"sent": run.sent + len(batch)}
        if batch:
            values["last_user_id"] = batch[-1].id
        if len(batch) < c.settings.policy_notice_batch_size:
            values["finished_at"] = func.now()
        await session.execute(
            update(policy_notices).where(policy_notices.c.version == run.version).values(**values)
        )
        return max(len(batch), 1)


def notice_worker(c: IdentityContainer) -> Worker:
    """A loop that sends notice batches until ``stop`` is set."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                sent = await send_next_batch(c)
            except Exception:
                log.exception("policy notice batch failed")
                sent = 0
            if sent == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), c.settings.policy_notice_interval_s)

    return run
