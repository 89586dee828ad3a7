"""Payments: starting a checkout, granting credits once per paid session, refunds, disputes."""

from __future__ import annotations

import contextlib
import logging
import uuid
from datetime import UTC, datetime

from aiflux_contracts import CreditsPurchased, CreditsRefunded, PaymentDisputed
from aiflux_kit.db import Database
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.checkout import CheckoutGateway, CheckoutSession, GatewayUnavailable
from ..adapters.ledger import CreditLedger
from ..adapters.payments import PaymentStore
from ..domain.errors import AccountErased, PaymentProviderUnavailable, UnknownPlan
from ..domain.packs import CreditPack
from ..domain.records import PaymentRecord
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
        store = PaymentStore(session)
        if await store.is_erased(user_id):
            raise AccountErased("This account has been deleted; nothing more can be stored for it.")
        store.add_creating(payment_id, user_id, pack, retained_until(datetime.now(UTC), retention_years))
    try:
        checkout = await gateway.create(payment_id, pack)
    except GatewayUnavailable:
        async with database.transaction() as session:
            await PaymentStore(session).delete(payment_id)
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
        store = PaymentStore(session)
        erased = await store.is_erased(user_id)
        await store.open(payment_id, checkout.id, PaymentStatus.EXPIRED if erased else PaymentStatus.OPEN)
    return not erased


async def fulfil(session: AsyncSession, checkout: CheckoutSession, via: str) -> str:
    """Grant the credits of a paid session, exactly once; returns the outcome."""
    store = PaymentStore(session)
    payment = await _payment_of(store, checkout)
    if payment is None:
        return "unknown-session"
    if payment.paid_at is not None:
        return "already-fulfilled"
    if (checkout.amount_total, checkout.currency) != (payment.amount, payment.currency):
        log.error("paid amount differs from the plan", extra={"payment_id": str(payment.payment_id)})
        return "amount-mismatch"
    await store.mark_paid(payment.payment_id, via)
    if payment.user_id is None:  # erased before the money arrived: nobody to credit
        return "paid-after-erasure"
    await grant(session, payment.user_id, payment.credits, EntryKind.PURCHASE, payment_id=payment.payment_id)
    await add_event(
        session,
        CreditsPurchased(
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            plan_id=payment.plan_id,
            credits=payment.credits,
            amount=payment.amount,
            currency=payment.currency,
        ),
    )
    return "fulfilled"


async def _payment_of(store: PaymentStore, checkout: CheckoutSession) -> PaymentRecord | None:
    """The payment of a session, locked; binds the session id if it was never stored."""
    if checkout.payment_id is None:
        return None
    owner = await store.owner(checkout.payment_id)
    if owner is not None:
        # The owner's erasure lock before the row lock (the erasure's order): an erasure running
        # now commits first, and the payment is then re-read pseudonymised (nobody to credit).
        await store.is_erased(owner)
    payment = await store.locked(checkout.payment_id)
    if payment is None or payment.session_id not in (None, checkout.id):
        return None
    if payment.session_id is None:
        await store.bind_session(payment.payment_id, checkout.id)
    return payment


async def set_status(session: AsyncSession, checkout: CheckoutSession, status: PaymentStatus) -> str:
    """Record a session's new state (processing, failed, expired) unless it is already paid."""
    store = PaymentStore(session)
    payment = await _payment_of(store, checkout)
    if payment is None:
        return "unknown-session"
    if payment.paid_at is not None:
        return "already-fulfilled"
    if payment.status == status.value:
        return "no-change"
    await store.set_status(payment.payment_id, status)
    return status.value


async def record_refund(session: AsyncSession, checkout: CheckoutSession, refunded_total: int) -> str:
    """Take back the credits a (partial) refund pays for, as far as they are unspent."""
    store = PaymentStore(session)
    payment = await _payment_of(store, checkout)
    if payment is None:
        return "unknown-session"
    if refunded_total <= payment.refunded_amount:
        return "no-change"
    refunded = min(refunded_total, payment.amount)
    fully = refunded >= payment.amount
    await store.record_refund(
        payment.payment_id, refunded, PaymentStatus.REFUNDED if fully else PaymentStatus.PARTIALLY_REFUNDED
    )
    if payment.user_id is None or payment.paid_at is None:
        return "recorded"
    due = credits_due_back(
        payment.credits, payment.amount, refunded, payment.credits_reversed + payment.credits_unrecovered
    )
    outcome = await take_back_credits(session, payment.user_id, due, EntryKind.REFUND, payment.payment_id)
    await store.add_taken_back(payment.payment_id, outcome.taken, outcome.unrecovered)
    await add_event(
        session,
        CreditsRefunded(
            user_id=payment.user_id,
            payment_id=payment.payment_id,
            credits_reversed=outcome.taken,
            unrecovered=outcome.unrecovered,
        ),
    )
    return "refunded"


async def open_dispute(
    session: AsyncSession, checkout: CheckoutSession, dispute_id: str, status: str, amount: int
) -> str:
    """Record a new dispute and freeze the user's spending until it is closed."""
    store = PaymentStore(session)
    payment = await _payment_of(store, checkout)
    if payment is None:
        return "unknown-session"
    if not await store.add_dispute(dispute_id, payment.payment_id, status, amount):
        return "already-open"
    if payment.user_id is not None:
        await CreditLedger(session).change_disputes(payment.user_id, +1)
        await add_event(
            session, PaymentDisputed(user_id=payment.user_id, payment_id=payment.payment_id, open=True)
        )
    return "frozen"


async def close_dispute(
    session: AsyncSession, checkout: CheckoutSession, dispute_id: str, status: str
) -> str:
    """Close a dispute: unfreeze; a lost one takes back what is left of the payment's credits."""
    store = PaymentStore(session)
    payment = await _payment_of(store, checkout)
    dispute = await store.dispute_locked(dispute_id)
    if payment is None or dispute is None:
        return "unknown-dispute"
    if dispute.closed_at is not None:
        return "already-closed"
    if payment.user_id is None:
        await store.close_dispute(dispute_id, status)
        return "closed"
    await CreditLedger(session).change_disputes(payment.user_id, -1)
    if status == "lost":
        due = payment.credits - payment.credits_reversed - payment.credits_unrecovered
        outcome = await take_back_credits(
            session, payment.user_id, due, EntryKind.REVERSAL, payment.payment_id
        )
        await store.add_taken_back(payment.payment_id, outcome.taken, outcome.unrecovered)
        await store.close_dispute(dispute_id, status, outcome.taken, outcome.unrecovered)
    else:
        await store.close_dispute(dispute_id, status)
    await add_event(
        session, PaymentDisputed(user_id=payment.user_id, payment_id=payment.payment_id, open=False)
    )
    return f"closed-{status}"


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
