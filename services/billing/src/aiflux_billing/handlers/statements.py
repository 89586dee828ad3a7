"""What users and operators read: balances, ledgers, payments, disputes (typed records)."""

from __future__ import annotations

import uuid

from aiflux_kit.db import Database

from ..adapters.repositories import BALANCE, BillingRepository, PaymentFilter, account_balance
from ..domain.records import AccountBalance, DisputeRecord, LedgerRecord, Page, PaymentRecord


async def balance(database: Database, user_id: uuid.UUID) -> AccountBalance:
    """The user's credits, held credits and whether spending is frozen (one row, read
    outside any transaction)."""
    return account_balance(await database.first_row(BALANCE, {"user_id": user_id}))


async def ledger(
    database: Database, user_id: uuid.UUID, limit: int, cursor: int | None
) -> Page[LedgerRecord]:
    """The user's ledger entries, newest first."""
    async with database.transaction() as session:
        return await BillingRepository(session).ledger_page(user_id, limit, cursor)


async def payments(
    database: Database,
    limit: int,
    cursor: int | None,
    *,
    user_id: uuid.UUID | None = None,
    only: PaymentFilter | None = None,
) -> Page[PaymentRecord]:
    """Payments, newest first: one user's, or (for operators) those ``only`` admits."""
    async with database.transaction() as session:
        return await BillingRepository(session).payments_page(limit, cursor, user_id=user_id, only=only)


async def disputes(database: Database, open_only: bool) -> list[DisputeRecord]:
    """The latest disputes (spending is frozen while one is open)."""
    async with database.transaction() as session:
        return await BillingRepository(session).disputes(open_only)
