"""Payments and disputes' writes, answered as typed records (domain/records.py).

Works on the caller's transaction and never commits.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from aiflux_kit.erasure import is_erased
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.packs import CreditPack
from ..domain.records import DisputeRecord, PaymentRecord
from ..domain.rules import PaymentStatus
from .orm import Dispute, Payment, StripeEvent
from .repositories import dispute_record, payment_record


class PaymentStore:
    """Payments and their disputes seen through one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """Whether the user is erased or being erased (takes the user's erasure lock shared)."""
        erased: bool = await is_erased(self.session, user_id)
        return erased

    # --- checkout ------------------------------------------------------------------------------

    def add_creating(
        self, payment_id: uuid.UUID, user_id: uuid.UUID, pack: CreditPack, retain_until: date
    ) -> None:
        """Record a payment whose Checkout Session is being created."""
        self.session.add(
            Payment(
                id=payment_id,
                user_id=user_id,
                plan_id=pack.id,
                credits=pack.credits,
                amount=pack.amount,
                currency=pack.currency,
                status=PaymentStatus.CREATING.value,
                retain_until=retain_until,
            )
        )

    async def delete(self, payment_id: uuid.UUID) -> None:
        """Forget a payment whose session could not be created."""
        await self.session.execute(delete(Payment).where(Payment.id == payment_id))

    async def open(self, payment_id: uuid.UUID, session_id: str, status: PaymentStatus) -> None:
        """Bind the created Checkout Session to its payment, in ``status``."""
        await self.session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(stripe_session_id=session_id, updated_at=func.now(), status=status.value)
        )

    # --- one payment, locked -------------------------------------------------------------------

    async def owner(self, payment_id: uuid.UUID) -> uuid.UUID | None:
        """The user a payment is linked to (unlocked; None once pseudonymised)."""
        owner: uuid.UUID | None = await self.session.scalar(
            select(Payment.user_id).where(Payment.id == payment_id)
        )
        return owner

    async def locked(self, payment_id: uuid.UUID) -> PaymentRecord | None:
        """The payment, row-locked for this transaction."""
        payment = await self.session.scalar(
            select(Payment)
            .where(Payment.id == payment_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return None if payment is None else payment_record(payment)

    async def bind_session(self, payment_id: uuid.UUID, session_id: str) -> None:
        """Store the Checkout Session id of a payment that never stored it."""
        await self.session.execute(
            update(Payment)
            .where(Payment.id == payment_id, Payment.stripe_session_id.is_(None))
            .values(stripe_session_id=session_id)
        )

    async def mark_paid(self, payment_id: uuid.UUID, via: str) -> None:
        """Record that the payment's money arrived (``via`` webhook or reconciliation)."""
        now = datetime.now(UTC)
        await self._set(
            payment_id, status=PaymentStatus.PAID.value, paid_at=now, fulfilled_via=via, updated_at=now
        )

    async def set_status(self, payment_id: uuid.UUID, status: PaymentStatus) -> None:
        """Record the session's new state."""
        await self._set(payment_id, status=status.value, updated_at=datetime.now(UTC))

    async def record_refund(self, payment_id: uuid.UUID, refunded_amount: int, status: PaymentStatus) -> None:
        """Record the refunded total so far and the status it gives."""
        await self._set(
            payment_id, refunded_amount=refunded_amount, status=status.value, updated_at=datetime.now(UTC)
        )

    async def add_taken_back(self, payment_id: uuid.UUID, reversed_: int, unrecovered: int) -> None:
        """Count credits taken back for the payment, and those already spent."""
        await self._set(
            payment_id,
            credits_reversed=Payment.credits_reversed + reversed_,
            credits_unrecovered=Payment.credits_unrecovered + unrecovered,
        )

    async def _set(self, payment_id: uuid.UUID, **values: object) -> None:
        await self.session.execute(update(Payment).where(Payment.id == payment_id).values(**values))

    # --- disputes ------------------------------------------------------------------------------

    async def add_dispute(self, dispute_id: str, payment_id: uuid.UUID, status: str, amount: int) -> bool:
        """Record a new dispute; False when it is already recorded."""
        added = await self.session.scalar(
            insert(Dispute)
            .values(id=dispute_id, payment_id=payment_id, status=status, amount=amount)
            .on_conflict_do_nothing()
            .returning(Dispute.id)
        )
        return added is not None

    async def dispute_locked(self, dispute_id: str) -> DisputeRecord | None:
        """The dispute, row-locked for this transaction."""
        dispute = await self.session.scalar(
            select(Dispute)
            .where(Dispute.id == dispute_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        return None if dispute is None else dispute_record(dispute)

    async def close_dispute(
        self, dispute_id: str, status: str, reversed_: int = 0, unrecovered: int = 0
    ) -> None:
        """Close a dispute with its final status and the credits its loss took back."""
        values: dict[str, object] = {"status": status, "closed_at": datetime.now(UTC)}
        if reversed_ or unrecovered:
            values |= {"credits_reversed": reversed_, "credits_unrecovered": unrecovered}
        await self.session.execute(update(Dispute).where(Dispute.id == dispute_id).values(**values))

    # --- retention -----------------------------------------------------------------------------

    async def purge_expired(self, today: date) -> int:
        """Delete payments (and their disputes) whose retention ended before ``today``."""
        purged = (
            await self.session.scalars(
                delete(Payment).where(Payment.retain_until < today).returning(Payment.id)
            )
        ).all()
        if purged:
            await self.session.execute(delete(Dispute).where(Dispute.payment_id.in_(purged)))
        return len(purged)


class StripeEventJournal:
    """The Stripe event ids already handled, so each event takes effect once."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def claim(self, event_id: str, event_type: str) -> bool:
        """Record an event as being processed; False when it was seen before."""
        first = await self.session.scalar(
            insert(StripeEvent)
            .values(id=event_id, type=event_type[:100], outcome="processing")
            .on_conflict_do_nothing()
            .returning(StripeEvent.id)
        )
        return first is not None

    async def settle(self, event_id: str, outcome: str) -> None:
        """Record what the event did."""
        await self.session.execute(
            update(StripeEvent).where(StripeEvent.id == event_id).values(outcome=outcome)
        )
