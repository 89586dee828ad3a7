"""Substantial policy changes (§9): record the version, mail every user in batches."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from aiflux_contracts import PolicyPublished
from aiflux_kit.service import Worker
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import policies
from ..domain import messages
from .common import utcnow

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer

log = logging.getLogger(__name__)


async def record_policy(session: AsyncSession, event: PolicyPublished) -> None:
    """Remember the version; a substantial one starts a notice run to every user."""
    await policies.record_version(session, event.version, event.substantial, event.effective_at)
    if event.substantial:
        await policies.start_notice_run(session, event.version)


async def send_next_batch(c: IdentityContainer) -> int:
    """Mail the next batch of one unfinished run; the number of mails sent (0: nothing to do).

    The batch cursor advances in the same transaction that chose the batch, and the row stays
    locked while mailing, so two workers never mail the same user twice for one version.
    """
    async with c.database.transaction() as session:
        run = await policies.lock_next_run(session)
        if run is None:
            return 0
        size = c.settings.policy_notice_batch_size
        batch = await policies.recipients_after(session, run.last_user_id, size)
        effective_at = await policies.effective_at(session, run.version)
        mail = messages.policy_changed(run.version, effective_at, utcnow(), c.link("/privacy-policy"))
        for user in batch:
            await c.mailer.send(user.email, mail)
        await policies.advance_run(session, run, batch, finished=len(batch) < size)
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
