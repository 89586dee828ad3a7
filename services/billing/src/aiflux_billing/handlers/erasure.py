"""Erasure in billing (``identity.UserDeleted``): what tax law keeps, and the verification.

Ledger, holds and balance are deleted; open checkouts are expired at Stripe (nothing payable
may remain); payments are pseudonymised and kept for tax law; published messages naming the
user are forgotten. Every delivery (first or re-driven) erases whatever exists now, and the
receipt adds this run's counts to the earlier runs' under the same request.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any, Protocol, cast

from aiflux_contracts import ErasureCompleted, ErasureVerified, RetainedItem
from aiflux_contracts.receipts import ErasureCompletedBase, ErasureVerifiedBase
from aiflux_kit.erasure import MESSAGES_CATEGORY, receipt_messaging, retained_by_erasure

from ..adapters.checkout import CheckoutGateway, CheckoutSession
from ..domain.rules import PaymentStatus

# Billing's receipts (the contracts build one event class per service).
COMPLETED = cast(type[ErasureCompletedBase], ErasureCompleted["billing"])
VERIFIED = cast(type[ErasureVerifiedBase], ErasureVerified["billing"])
# The retention rule of privacy's catalog (§5) that keeps payments, and its basis.
PAYMENTS_RULE, PAYMENTS_LEGAL_BASIS = "payment-data", "Art. 6(1)(c)"
OPEN_STATUSES = (PaymentStatus.CREATING.value, PaymentStatus.OPEN.value)


class ErasureStore(Protocol):
    """What erasure reads and writes (adapters.repositories.BillingRepository in production)."""

    async def guard(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """Take the erasure guard first."""

    async def open_checkout_ids(self, user_id: uuid.UUID, statuses: tuple[str, ...]) -> list[str]:
        """Session ids of the user's payments still payable."""

    async def delete_credits(self, user_id: uuid.UUID) -> dict[str, int]:
        """Delete ledger, holds and balance; counts."""

    async def pseudonymise_payments(self, user_id: uuid.UUID) -> list[date]:
        """Unlink the payments; the day each may be purged."""

    async def forget_messages(self, user_id: uuid.UUID) -> None:
        """Forget the published messages naming the user."""

    async def receipt(self, request_id: uuid.UUID) -> tuple[dict[str, int], list[dict[str, Any]]]:
        """The receipt so far."""

    async def save_receipt(
        self, request_id: uuid.UUID, deleted: dict[str, int], retained: list[dict[str, Any]]
    ) -> None:
        """Write the receipt's totals."""

    async def remaining(self, user_id: uuid.UUID) -> dict[str, int]:
        """What is still linked to the user."""


class PaymentBook(Protocol):
    """How a checkout closed by the erasure is recorded (handlers.payments in production)."""

    async def fulfil(self, checkout: CheckoutSession, via: str) -> str:
        """Record a paid session."""

    async def set_status(self, checkout: CheckoutSession, status: PaymentStatus) -> str:
        """Record a session's new state."""


async def erase_user(
    store: ErasureStore,
    book: PaymentBook,
    gateway: CheckoutGateway,
    user_id: uuid.UUID,
    request_id: uuid.UUID,
    outbox_keep_days: float,
) -> ErasureCompletedBase:
    """Erase what billing holds of the user; the receipt to publish.

    The guard comes first (late writes for the user wait for this transaction or are refused).
    A Stripe outage raises GatewayUnavailable, and the consumer retries the whole erasure.
    """
    await store.guard(user_id, request_id)
    expired = await _expire_open_checkouts(store, book, gateway, user_id)
    deleted = {**await store.delete_credits(user_id), "checkout_sessions_expired": expired}
    kept = await store.pseudonymise_payments(user_id)
    await store.forget_messages(user_id)
    totals, kept_payments = await _add_to_receipt(store, request_id, deleted, kept)
    # The verification, in this transaction: what remains now (the receipt carries it).
    remaining = receipt_messaging(await store.remaining(user_id))
    messages = remaining[MESSAGES_CATEGORY]
    return COMPLETED(
        request_id=request_id,
        user_id=user_id,
        deleted=totals,
        retained=[*kept_payments, *retained_by_erasure("billing", outbox_keep_days, messages=messages)],
        remaining=remaining,
    )


async def _add_to_receipt(
    store: ErasureStore,
    request_id: uuid.UUID,
    deleted: dict[str, int],
    kept: list[date],
) -> tuple[dict[str, int], list[RetainedItem]]:
    """Add one run's counts to the request's receipt; return the totals."""
    earlier_deleted, earlier_retained = await store.receipt(request_id)
    earlier = [RetainedItem.model_validate(r) for r in earlier_retained]
    count = len(kept) + sum(r.count for r in earlier)
    until = max([*kept, *(r.retained_until for r in earlier)], default=None)
    retained = (
        [
            RetainedItem(
                category="payments",
                count=count,
                legal_basis=PAYMENTS_LEGAL_BASIS,
                retained_until=until,
                retention_rule=PAYMENTS_RULE,
            )
        ]
        if until
        else []
    )
    totals = {k: earlier_deleted.get(k, 0) + v for k, v in deleted.items()}
    await store.save_receipt(request_id, totals, [r.model_dump(mode="json") for r in retained])
    return totals, retained


async def _expire_open_checkouts(
    store: ErasureStore, book: PaymentBook, gateway: CheckoutGateway, user_id: uuid.UUID
) -> int:
    """Expire the user's open sessions at Stripe, so nothing can be paid after erasure."""
    expired = 0
    for session_id in await store.open_checkout_ids(user_id, OPEN_STATUSES):
        checkout = await gateway.expire(session_id)
        if checkout is None:
            continue
        if checkout.is_paid:  # paid a moment before: keep the payment record right
            await book.fulfil(checkout, via="erasure")
        else:
            await book.set_status(checkout, PaymentStatus.EXPIRED)
            expired += 1
    return expired


async def verification(store: ErasureStore, user_id: uuid.UUID, request_id: uuid.UUID) -> ErasureVerifiedBase:
    """The answer to privacy's verification: what remains."""
    return VERIFIED(request_id=request_id, user_id=user_id, remaining=await store.remaining(user_id))
