"""Scheduled jobs: expiring stale holds, reconciling with Stripe, purging old payments."""

from __future__ import annotations

import time
from datetime import date

from aiflux_kit.db import Database

from ..adapters.checkout import CheckoutGateway
from ..adapters.ledger import CreditLedger
from ..adapters.payments import PaymentStore
from ..domain.rules import HoldStatus, PaymentStatus
from . import credits, payments


async def expire_holds(database: Database, batch: int = 500) -> dict[str, int]:
    """Void every hold past its deadline (its generation never finished nor failed)."""
    async with database.transaction() as session:
        due = await credits.expired_hold_ids(session, batch)
    voided = 0
    for generation_id in due:
        # One transaction per hold: a capture racing with the sweep wins or loses cleanly.
        async with database.transaction() as session:
            hold = await CreditLedger(session).hold(generation_id, lock=True)
            if hold is not None and hold.status == HoldStatus.HELD:
                await credits.release(session, hold, "expired")
                voided += 1
    return {"holds_voided": voided}


async def reconcile(database: Database, gateway: CheckoutGateway, lookback_s: int) -> dict[str, int]:
    """Ask Stripe for recent sessions; fulfil paid ones whose webhook never arrived."""
    counts = {"sessions_checked": 0, "fulfilled": 0, "expired": 0}
    async for checkout in gateway.list_since(int(time.time()) - lookback_s):
        if checkout.payment_id is None:
            continue  # not one of ours
        counts["sessions_checked"] += 1
        async with database.transaction() as session:
            if checkout.is_paid:
                outcome = await payments.fulfil(session, checkout, via="reconciliation")
                counts["fulfilled"] += outcome == "fulfilled"
            elif checkout.status == "expired":
                outcome = await payments.set_status(session, checkout, PaymentStatus.EXPIRED)
                counts["expired"] += outcome == PaymentStatus.EXPIRED.value
    return counts


async def purge_old_payments(database: Database) -> dict[str, int]:
    """Delete payment records whose tax-law retention period is over."""
    async with database.transaction() as session:
        purged = await PaymentStore(session).purge_expired(date.today())
    return {"payments_purged": purged}
