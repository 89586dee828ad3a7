"""Payments: starting a checkout, granting credits once per paid session, refunds, disputes."""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import UTC, datetime

from aiflux_contracts import CreditsPurchased, CreditsRefunded, PaymentDisputed
from aiflux_kit.db import Database
from aiflux_kit.erasure import is_erased
from aiflux_kit.outbox import add_event
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.checkout import CheckoutGateway, CheckoutSession, GatewayUnavailable
from ..adapters.orm import Account, Dispute, Payment
from ..domain.errors import AccountErased, PaymentProviderUnavailable, UnknownPlan
from ..domain.packs import CreditPack
from ..domain.rules import EntryKind, PaymentStatus, credits_due_back, retained_until
from .credits import grant, take_back_credits

log = logging.getLogger(__name__)


def pack_on_sale(packs: list[CreditPack], plan_id: str) -> CreditPack:
    """The credit pack called ``plan_id``; refused when it is not on sale."""
    pack = next((p for p in packs if p.id == plan_id), None)
    if pack is None:
        raise UnknownPlan(f"There is no credit pack {plan_id!r}; see /v1/billing/plans.")
    return pack


async def start_checkout(
    database: Database, gateway: CheckoutGateway, user_id: uuid.UUID, pack: CreditPack, retention_years: int
) -> CheckoutSession:
    """Record a payment and open its Checkout Session at the provider."""
    payment_id = uuid.uuid4()
    async with database.transaction() as session:
        if await is_erased(session, user_id):
            raise AccountErased("This account has been deleted; nothing more can be stored for it.")
        session.add(
            Payment(
                id=payment_id,
                user_id=user_id,
                plan_id=pack.id,
                credits=pack.credits,
                amount=pack.amount,
                currency=pack.currency,
                status=PaymentStatus.CREATING.value,
                retain_until=retained_until(datetime.now(UTC), retention_years),
            )
        )
    try:
        checkout = await gateway.create(payment_id, pack)
    except GatewayUnavailable:
        async with database.transaction() as session:
            await session.execute(delete(Payment).where(Payment.id == payment_id))
        raise PaymentProviderUnavailable(
            "The payment provider cannot be reached right now; please retry."
        ) from None
    if not await _open(database, payment_id, user_id, checkout):
        with contextlib.suppress(GatewayUnavailable):  # Stripe expires it within a day anyway
            await gateway.expire(checkout.id)  # erased meanwhile: nothing payable may remain
        raise AccountErased("This account has been deleted; nothing more can be bought for it.")
    return checkout


async def _open(
    database: Database, payment_id: uuid.UUID, user_id: uuid.UUID, checkout: CheckoutSession
) -> bool:
    """Bind the opened session to its payment; False (and the payment expired) when the user
    was erased while the session was being created."""
    async with database.transaction() as session:
        erased = await is_erased(session, user_id)
        await session.execute(
            update(Payment)
            .where(Payment.id == payment_id)
            .values(
                stripe_session_id=checkout.id,
                updated_at=func.now(),
                status=(PaymentStatus.EXPIRED if erased else PaymentStatus.OPEN).value,
            )
        )
    return not erased


async def fulfil(session: AsyncSession, checkout: CheckoutSession, via: str) -> str:
    """Grant the credits of a paid session, exactly once; returns the outcome."""
    payment = await _payment_of(session, checkout)
    if payment is None:
        return "unknown-session"
    if payment.paid_at is not None:
        return "already-fulfilled"
    if (checkout.amount_total, checkout.currency) != (payment.amount, payment.currency):
        log.error("paid amount differs from the plan", extra={"payment_id": str(payment.id)})
        return "amount-mismatch"
    payment.status, payment.paid_at = PaymentStatus.PAID.value, datetime.now(UTC)
    payment.fulfilled_via, payment.updated_at = via, datetime.now(UTC)
    if payment.user_id is None:  # erased before the money arrived: nobody to credit
        return "paid-after-erasure"
    await grant(session, payment.user_id, payment.credits, EntryKind.PURCHASE, payment_id=payment.id)
    await add_event(
        session,
        CreditsPurchased(
            user_id=payment.user_id,
            payment_id=payment.id,
            plan_id=payment.plan_id,
            credits=payment.credits,
            amount=payment.amount,
            currency=payment.currency,
        ),
    )
    return "fulfilled"


async def _payment_of(session: AsyncSession, checkout: CheckoutSession) -> Payment | None:
    """The payment row of a session, locked; binds the session id if it was never stored."""
    if checkout.payment_id is None:
        return None
    owner = await session.scalar(select(Payment.user_id).where(Payment.id == checkout.payment_id))
    if owner is not None:
        # The owner's erasure lock before the row lock (the erasure's order): an erasure running
        # now commits first, and the payment is then re-read pseudonymised (nobody to credit).
        await is_erased(session, owner)
    payment = await session.scalar(select(Payment).where(Payment.id == checkout.payment_id).with_for_update())
    if payment is None or payment.stripe_session_id not in (None, checkout.id):
        return None
    payment.stripe_session_id = checkout.id
    return payment


async def set_status(session: AsyncSession, checkout: CheckoutSession, status: PaymentStatus) -> str:
    """Record a session's new state (processing, failed, expired) unless it is already paid."""
    payment = await _payment_of(session, checkout)
    if payment is None:
        return "unknown-session"
    if payment.paid_at is not None:
        return "already-fulfilled"
    if payment.status == status.value:
        return "no-change"
    payment.status, payment.updated_at = status.value, datetime.now(UTC)
    return status.value


async def record_refund(session: AsyncSession, checkout: CheckoutSession, refunded_total: int) -> str:
    """Take back the credits a (partial) refund pays for, as far as they are unspent."""
    payment = await _payment_of(session, checkout)
    if payment is None:
        return "unknown-session"
    if refunded_total <= payment.refunded_amount:
        return "no-change"
    payment.refunded_amount = min(refunded_total, payment.amount)
    payment.status = (
        PaymentStatus.REFUNDED
        if payment.refunded_amount >= payment.amount
        else PaymentStatus.PARTIALLY_REFUNDED
    ).value
    payment.updated_at = datetime.now(UTC)
    if payment.user_id is None or payment.paid_at is None:
        return "recorded"
    due = credits_due_back(
        payment.credits,
        payment.amount,
        payment.refunded_amount,
        payment.credits_reversed + payment.credits_unrecovered,
    )
    outcome = await take_back_credits(session, payment.user_id, due, EntryKind.REFUND, payment.id)
    payment.credits_reversed += outcome.taken
    payment.credits_unrecovered += outcome.unrecovered
    await add_event(
        session,
        CreditsRefunded(
            user_id=payment.user_id,
            payment_id=payment.id,
            credits_reversed=outcome.taken,
            unrecovered=outcome.unrecovered,
        ),
    )
    return "refunded"


async def open_dispute(
    session: AsyncSession, checkout: CheckoutSession, dispute_id: str, status: str, amount: int
) -> str:
    """Record a new dispute and freeze the user's spending until it is closed."""
    payment = await _payment_of(session, checkout)
    if payment is None:
        return "unknown-session"
    added = await session.scalar(
        insert(Dispute)
        .values(id=dispute_id, payment_id=payment.id, status=status, amount=amount)
        .on_conflict_do_nothing()
        .returning(Dispute.id)
    )
    if added is None:
        return "already-open"
    if payment.user_id is not None:
        await _change_disputes(session, payment.user_id, +1)
        await add_event(session, PaymentDisputed(user_id=payment.user_id, payment_id=payment.id, open=True))
    return "frozen"


async def close_dispute(
    session: AsyncSession, checkout: CheckoutSession, dispute_id: str, status: str
) -> str:
    """Close a dispute: unfreeze; a lost one takes back what is left of the payment's credits."""
    payment = await _payment_of(session, checkout)
    dispute = await session.scalar(select(Dispute).where(Dispute.id == dispute_id).with_for_update())
    if payment is None or dispute is None:
        return "unknown-dispute"
    if dispute.closed_at is not None:
        return "already-closed"
    dispute.status, dispute.closed_at = status, datetime.now(UTC)
    if payment.user_id is None:
        return "closed"
    await _change_disputes(session, payment.user_id, -1)
    if status == "lost":
        due = payment.credits - payment.credits_reversed - payment.credits_unrecovered
        outcome = await take_back_credits(session, payment.user_id, due, EntryKind.REVERSAL, payment.id)
        payment.credits_reversed += outcome.taken
        payment.credits_unrecovered += outcome.unrecovered
        dispute.credits_reversed, dispute.credits_unrecovered = (outcome.taken, outcome.unrecovered)
    await add_event(session, PaymentDisputed(user_id=payment.user_id, payment_id=payment.id, open=False))
    return f"closed-{status}"


async def _change_disputes(session: AsyncSession, user_id: uuid.UUID, delta: int) -> None:
    await session.execute(
        insert(Account)
        .values(user_id=user_id, open_disputes=max(delta, 0))
        .on_conflict_do_update(
            index_elements=[Account.user_id],
            set_={"open_disputes": func.greatest(Account.open_disputes + delta, 0), "updated_at": func.now()},
        )
    )


class SessionPaymentBook:
    """Payments recorded in one transaction (the erasure's ``PaymentBook``)."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def fulfil(self, checkout: CheckoutSession, via: str) -> str:
        """Grant the credits of a paid session, exactly once."""
        return await fulfil(self._session, checkout, via)

    async def set_status(self, checkout: CheckoutSession, status: PaymentStatus) -> str:
        """Record a session's new state unless it is already paid."""
        return await set_status(self._session, checkout, status)
