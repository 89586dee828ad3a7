"""Data-subject rights in billing: erasure (with what tax law keeps), export, verification."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

from aiflux_contracts import ErasureCompleted, ErasureVerified, RetainedItem
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import (
    forget_user_messages,
    guard_user,
    messaging_residue,
    retained_by_erasure,
)
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.checkout import CheckoutGateway
from ..adapters.orm import Account, ErasureReceipt, Hold, LedgerEntry, Payment
from ..domain.rules import PaymentStatus
from . import payments

# The retention rule of privacy's catalog (§5) that keeps payments, and its basis.
PAYMENTS_RULE, PAYMENTS_LEGAL_BASIS = "payment-data", "Art. 6(1)(c)"
OPEN_STATUSES = (PaymentStatus.CREATING.value, PaymentStatus.OPEN.value)


async def erase_user(ctx: HandlerContext, gateway: CheckoutGateway, user_id: uuid.UUID,
                     request_id: uuid.UUID, outbox_keep_days: float) -> None:
    """Erase the user's ledger and holds, close open checkouts, pseudonymise payments.

    The guard comes first (late writes for the user wait for this transaction or are refused).
    Every delivery erases whatever exists now; the receipt adds this run's counts to earlier
    runs' under the same request.
    """
    session = ctx.session
    await guard_user(session, user_id, request_id)
    expired = await _expire_open_checkouts(session, gateway, user_id)
    deleted = {
        "ledger_entries": await _delete(session, LedgerEntry, LedgerEntry.user_id == user_id),
        "holds": await _delete(session, Hold, Hold.user_id == user_id),
        "balances": await _delete(session, Account, Account.user_id == user_id),
        "checkout_sessions_expired": expired,
    }
    kept = list((await session.execute(
        update(Payment).where(Payment.user_id == user_id)
        .values(user_id=None, pseudonymised_at=func.now(), updated_at=func.now())
        .returning(Payment.retain_until))).scalars().all())
    await forget_user_messages(session, user_id)
    deleted, kept_payments = await _add_to_receipt(session, request_id, deleted, kept)
    await ctx.publish(ErasureCompleted["billing"](
        request_id=request_id, user_id=user_id, deleted=deleted,
        retained=[*kept_payments, *retained_by_erasure("billing", outbox_keep_days)]))


async def _add_to_receipt(session: AsyncSession, request_id: uuid.UUID,
                          deleted: dict[str, int], kept: list[date],
                          ) -> tuple[dict[str, int], list[RetainedItem]]:
    """Add one run's counts to the request's receipt; return the totals."""
    receipt = await session.get(ErasureReceipt, request_id, with_for_update=True)
    earlier = [RetainedItem.model_validate(r) for r in receipt.retained] if receipt else []
    count = len(kept) + sum(r.count for r in earlier)
    until = max([*kept, *(r.retained_until for r in earlier)], default=None)
    retained = [RetainedItem(category="payments", count=count, legal_basis=PAYMENTS_LEGAL_BASIS,
                             retained_until=until, retention_rule=PAYMENTS_RULE)] if until else []
    if receipt is None:
        receipt = ErasureReceipt(request_id=request_id, deleted={}, retained=[])
        session.add(receipt)
    totals = {k: int(receipt.deleted.get(k, 0)) + v for k, v in deleted.items()}
    receipt.deleted, receipt.retained = totals, [r.model_dump(mode="json") for r in retained]
    return totals, retained


async def _delete(session: AsyncSession, table: Any, condition: Any) -> int:
    rows = await session.execute(delete(table).where(condition).returning(
        *table.__table__.primary_key.columns))
    return len(rows.all())


async def _expire_open_checkouts(session: AsyncSession, gateway: CheckoutGateway,
                                 user_id: uuid.UUID) -> int:
    """Expire the user's open sessions at Stripe, so nothing can be paid after erasure.

    A provider outage raises, and the consumer retries the whole erasure later.
    """
    open_ids = (await session.scalars(select(Payment.stripe_session_id).where(
        Payment.user_id == user_id, Payment.status.in_(OPEN_STATUSES),
        Payment.stripe_session_id.is_not(None)))).all()
    expired = 0
    for session_id in open_ids:
        checkout = await gateway.expire(str(session_id))
        if checkout is None:
            continue
        if checkout.is_paid:  # paid a moment before: keep the payment record right
            await payments.fulfil(session, checkout, via="erasure")
        else:
            await payments.set_status(session, checkout, PaymentStatus.EXPIRED)
            expired += 1
    return expired


async def remaining(session: AsyncSession, user_id: uuid.UUID) -> dict[str, int]:
    """What billing still holds linked to the user (all zero after erasure)."""
    async def count(table: Any, column: Any) -> int:
        return int(await session.scalar(select(func.count()).select_from(table)
                                        .where(column == user_id)) or 0)

    return {"ledger_entries": await count(LedgerEntry, LedgerEntry.user_id),
            "holds": await count(Hold, Hold.user_id),
            "balances": await count(Account, Account.user_id),
            "payments_linked": await count(Payment, Payment.user_id),
            **await messaging_residue(session, user_id)}


async def verify_erasure(ctx: HandlerContext, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
    """Answer privacy's verification with what remains."""
    await ctx.publish(ErasureVerified["billing"](
        request_id=request_id, user_id=user_id, remaining=await remaining(ctx.session, user_id)))


async def export_document(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """Everything billing holds about the user, machine-readable (portability)."""
    pays = (await session.scalars(select(Payment).where(Payment.user_id == user_id)
                                  .order_by(Payment.seq))).all()
    entries = (await session.scalars(select(LedgerEntry).where(LedgerEntry.user_id == user_id)
                                     .order_by(LedgerEntry.id))).all()
    account = await session.get(Account, user_id)
    return {
        "generated_at": datetime.now(UTC).isoformat(),
        "balance": {"credits": account.available if account else 0,
                    "held": account.held if account else 0},
        "payments": [payment_json(p) for p in pays],
        "ledger": [entry_json(e) for e in entries],
    }


def payment_json(p: Payment) -> dict[str, Any]:
    """A payment as shown to its owner."""
    return {"payment_id": str(p.id), "session_id": p.stripe_session_id, "plan_id": p.plan_id,
            "credits": p.credits, "amount": p.amount, "currency": p.currency,
            "status": p.status, "refunded_amount": p.refunded_amount,
            "created_at": p.created_at.isoformat(),
            "paid_at": p.paid_at.isoformat() if p.paid_at else None}


def entry_json(e: LedgerEntry) -> dict[str, Any]:
    """A ledger entry as shown to its owner."""
    return {"id": e.id, "kind": e.kind, "credits": e.credits,
            "payment_id": str(e.payment_id) if e.payment_id else None,
            "generation_id": str(e.generation_id) if e.generation_id else None,
            "note": e.note, "created_at": e.created_at.isoformat()}


def export_bytes(document: dict[str, Any]) -> bytes:
    """The ``billing.json`` export part."""
    return json.dumps(document, indent=2, ensure_ascii=False).encode()
