"""Scheduled work: retention sweeps (security log 12 months, account purge 30 days, the
embedded mail spool ``mail_spool_keep_days``)."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from aiflux_contracts import UserPurged
from aiflux_kit.outbox import add_event
from aiflux_kit.service import Sweep, Worker

from ..adapters import retention
from .common import utcnow
from .policy_notices import notice_worker

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer


def sweeps(c: IdentityContainer) -> list[Sweep]:
    """The identity sweeps, run every ``sweep_interval_s``."""
    interval = c.settings.sweep_interval_s

    async def security_log_retention() -> dict[str, int]:
        cutoff = utcnow() - timedelta(days=c.settings.security_log_retention_days)
        async with c.database.transaction() as session:
            removed = await retention.delete_security_log_before(session, cutoff)
        return {"removed": removed}

    async def account_purge() -> dict[str, int]:
        cutoff = utcnow() - timedelta(days=c.settings.purge_after_days)
        async with c.database.transaction() as session:
            purged = await retention.purge_accounts_disabled_before(session, cutoff)
            for user_id in purged:
                await add_event(session, UserPurged(user_id=user_id))
        return {"purged": len(purged)}

    async def expired_credentials() -> dict[str, int]:
        now = utcnow()
        stale = now - timedelta(seconds=c.settings.session_absolute_timeout_s)
        async with c.database.transaction() as session:
            ended = await retention.delete_ended_sessions(session, now - timedelta(days=1), stale)
            tokens = await retention.delete_email_tokens_expired_before(session, now - timedelta(days=1))
        return {"sessions": ended, "tokens": tokens}

    async def mail_spool_retention() -> dict[str, int]:
        keep = timedelta(days=c.settings.mail_spool_keep_days)
        return {"deleted": await c.mailer.forget_older_than(keep)}

    return [
        Sweep("security-log-retention", interval, security_log_retention),
        Sweep("account-purge", interval, account_purge),
        Sweep("expired-credentials", interval, expired_credentials),
        Sweep("mail-spool-retention", interval, mail_spool_retention),
    ]


def workers(c: IdentityContainer) -> list[Worker]:
    """Long-running loops: the policy-change notice mailer."""
    return [notice_worker(c)]
