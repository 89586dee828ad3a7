"""Reads and erasure writes of billing's tables, answered as typed records (domain/records.py).

One repository per transaction: it works on the session it is given and never commits.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, TypeVar

from aiflux_kit.erasure import forget_user_messages, guard_user, is_erased, messaging_residue
from sqlalchemy import ColumnElement, bindparam, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.records import (
    AccountBalance,
    DisputeRecord,
    LedgerRecord,
    Page,
    PaymentRecord,
)
from .orm import Account, Dispute, ErasureReceipt, Hold, LedgerEntry, Payment

T = TypeVar("T")


def payment_record(p: Payment) -> PaymentRecord:
    """The record of an ORM payment."""
    return PaymentRecord(
        seq=p.seq,
        payment_id=p.id,
        user_id=p.user_id,
        session_id=p.stripe_session_id,
        plan_id=p.plan_id,
        credits=p.credits,
        amount=p.amount,
        currency=p.currency,
        status=p.status,
        fulfilled_via=p.fulfilled_via,
        refunded_amount=p.refunded_amount,
        credits_reversed=p.credits_reversed,
        credits_unrecovered=p.credits_unrecovered,
        created_at=p.created_at,
        paid_at=p.paid_at,
        retain_until=p.retain_until,
    )


def ledger_record(e: LedgerEntry) -> LedgerRecord:
    """The record of an ORM ledger entry."""
    return LedgerRecord(
        id=e.id,
        kind=e.kind,
        credits=e.credits,
        payment_id=e.payment_id,
        generation_id=e.generation_id,
        note=e.note,
        created_at=e.created_at,
    )


def dispute_record(d: Dispute) -> DisputeRecord:
    """The record of an ORM dispute."""
    return DisputeRecord(
        dispute_id=d.id,
        payment_id=d.payment_id,
        status=d.status,
        amount=d.amount,
        opened_at=d.opened_at,
        closed_at=d.closed_at,
        credits_reversed=d.credits_reversed,
        credits_unrecovered=d.credits_unrecovered,
    )


class PaymentFilter:
    """Which payments an operator list shows."""

    def __init__(
        self, *, status: str | None = None, refunded: bool = False, fulfilled_via: str | None = None
    ) -> None:
        self.conditions: list[ColumnElement[bool]] = []
        if status:
            self.conditions.append(Payment.status == status)
        if refunded:
            self.conditions.append(Payment.refunded_amount > 0)
        if fulfilled_via:
            self.conditions.append(Payment.fulfilled_via == fulfilled_via)


_ACCOUNT = Account.__table__
BALANCE = select(_ACCOUNT.c.available, _ACCOUNT.c.held, _ACCOUNT.c.open_disputes).where(
    _ACCOUNT.c.user_id == bindparam("user_id")
)
"""A user's balance row: three columns, no ORM instance, built once (``GET /v1/billing/balance``
is the hottest read of the API)."""


def account_balance(row: Any) -> AccountBalance:
    """The balance of a :data:`BALANCE` row (zero for someone who never bought)."""
    if row is None:
        return AccountBalance()
    return AccountBalance(row.available, row.held, row.open_disputes)


class BillingRepository:
    """Billing's tables seen through one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    # --- balances, ledgers, payments ---------------------------------------------------------

    async def balance(self, user_id: uuid.UUID) -> AccountBalance:
        """The user's balance (zero for someone who never bought)."""
        return account_balance((await self.session.execute(BALANCE, {"user_id": user_id})).first())

    async def ledger_page(self, user_id: uuid.UUID, limit: int, cursor: int | None) -> Page[LedgerRecord]:
        """The user's ledger entries, newest first, after ``cursor``."""
        query = select(LedgerEntry).where(LedgerEntry.user_id == user_id)
        if cursor:
            query = query.where(LedgerEntry.id < cursor)
        rows = (await self.session.scalars(query.order_by(LedgerEntry.id.desc()).limit(limit + 1))).all()
        return _page([ledger_record(r) for r in rows], [r.id for r in rows], limit)

    async def payments_page(
        self,
        limit: int,
        cursor: int | None,
        *,
        user_id: uuid.UUID | None = None,
        only: PaymentFilter | None = None,
    ) -> Page[PaymentRecord]:
        """Payments, newest first, after ``cursor``: one user's, or those ``only`` admits."""
        query = select(Payment).where(*(only.conditions if only else []))
        if user_id is not None:
            query = query.where(Payment.user_id == user_id)
        if cursor:
            query = query.where(Payment.seq < cursor)
        rows = (await self.session.scalars(query.order_by(Payment.seq.desc()).limit(limit + 1))).all()
        return _page([payment_record(r) for r in rows], [r.seq for r in rows], limit)

    async def disputes(self, open_only: bool, limit: int = 200) -> list[DisputeRecord]:
        """The latest disputes, newest first."""
        query = select(Dispute).order_by(Dispute.opened_at.desc())
        if open_only:
            query = query.where(Dispute.closed_at.is_(None))
        return [dispute_record(d) for d in (await self.session.scalars(query.limit(limit))).all()]

    async def payments_of(self, user_id: uuid.UUID) -> list[PaymentRecord]:
        """Every payment still linked to the user, oldest first."""
        rows = await self.session.scalars(
            select(Payment).where(Payment.user_id == user_id).order_by(Payment.seq)
        )
        return [payment_record(p) for p in rows.all()]

    async def ledger_of(self, user_id: uuid.UUID) -> list[LedgerRecord]:
        """Every ledger entry of the user, oldest first."""
        rows = await self.session.scalars(
            select(LedgerEntry).where(LedgerEntry.user_id == user_id).order_by(LedgerEntry.id)
        )
        return [ledger_record(e) for e in rows.all()]

    # --- erasure ----------------------------------------------------------------------------

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """Whether the user is erased or being erased (takes the user's lock shared)."""
        erased: bool = await is_erased(self.session, user_id)
        return erased

    async def guard(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """The erasure guard: late writes for the user wait for this transaction or are refused."""
        await guard_user(self.session, user_id, request_id)

    async def open_checkout_ids(self, user_id: uuid.UUID, statuses: tuple[str, ...]) -> list[str]:
        """Stripe session ids of the user's payments still in ``statuses``."""
        ids = await self.session.scalars(
            select(Payment.stripe_session_id).where(
                Payment.user_id == user_id,
                Payment.status.in_(statuses),
                Payment.stripe_session_id.is_not(None),
            )
        )
        return [str(i) for i in ids.all()]

    async def delete_credits(self, user_id: uuid.UUID) -> dict[str, int]:
        """Delete the user's ledger, holds and balance; how many rows of each."""
        return {
            "ledger_entries": await self._delete(LedgerEntry, LedgerEntry.user_id == user_id),
            "holds": await self._delete(Hold, Hold.user_id == user_id),
            "balances": await self._delete(Account, Account.user_id == user_id),
        }

    async def pseudonymise_payments(self, user_id: uuid.UUID) -> list[date]:
        """Unlink the user's payments (kept for tax law); the day each may be purged."""
        kept = await self.session.execute(
            update(Payment)
            .where(Payment.user_id == user_id)
            .values(user_id=None, pseudonymised_at=func.now(), updated_at=func.now())
            .returning(Payment.retain_until)
        )
        return list(kept.scalars().all())

    async def forget_messages(self, user_id: uuid.UUID) -> None:
        """Delete the published outbox messages naming the user."""
        await forget_user_messages(self.session, user_id)

    async def receipt(self, request_id: uuid.UUID) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """The erasure receipt of ``request_id`` so far (locked): ``(deleted, retained)``."""
        receipt = await self.session.get(ErasureReceipt, request_id, with_for_update=True)
        if receipt is None:
            return {}, []
        return ({k: int(v) for k, v in receipt.deleted.items()}, list(receipt.retained))

    async def save_receipt(
        self, request_id: uuid.UUID, deleted: dict[str, int], retained: list[dict[str, Any]]
    ) -> None:
        """Write the receipt's new totals."""
        receipt = await self.session.get(ErasureReceipt, request_id)
        if receipt is None:
            self.session.add(ErasureReceipt(request_id=request_id, deleted=deleted, retained=retained))
        else:
            receipt.deleted, receipt.retained = deleted, retained

    async def remaining(self, user_id: uuid.UUID) -> dict[str, int]:
        """What billing still holds linked to the user (all zero after erasure)."""
        counts = {
            "ledger_entries": await self._count(LedgerEntry, LedgerEntry.user_id, user_id),
            "holds": await self._count(Hold, Hold.user_id, user_id),
            "balances": await self._count(Account, Account.user_id, user_id),
            "payments_linked": await self._count(Payment, Payment.user_id, user_id),
        }
        return {**counts, **await messaging_residue(self.session, user_id)}

    async def _delete(self, table: Any, condition: ColumnElement[bool]) -> int:
        rows = await self.session.execute(
            delete(table).where(condition).returning(*table.__table__.primary_key.columns)
        )
        return len(rows.all())

    async def _count(self, table: Any, column: Any, user_id: uuid.UUID) -> int:
        return int(
            await self.session.scalar(select(func.count()).select_from(table).where(column == user_id)) or 0
        )


def _page(items: list[T], cursors: list[int], limit: int) -> Page[T]:
    """A page from ``limit + 1`` fetched rows: the extra one says there is more."""
    more = len(items) > limit
    return Page(items[:limit], str(cursors[limit - 1]) if more else None)
