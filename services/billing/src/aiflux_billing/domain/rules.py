"""Rules of the credit ledger and of payments; pure functions, no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum


class EntryKind(StrEnum):
    """Kinds of ledger entries. The ledger is append-only: corrections are new entries."""

    PURCHASE = "purchase"  # credits granted by a paid checkout session
    SPEND = "spend"  # a captured hold (a completed generation)
    REFUND = "refund"  # credits taken back because Stripe refunded the payment
    REVERSAL = "reversal"  # credits taken back because a dispute was lost
    ADJUSTMENT = "adjustment"  # an operator's correction


class HoldStatus(StrEnum):
    """Life of a hold: held, then captured (generation done) or voided (failed/expired)."""

    HELD = "held"
    CAPTURED = "captured"
    VOIDED = "voided"


class PaymentStatus(StrEnum):
    """Life of a payment (one Stripe Checkout Session)."""

    CREATING = "creating"  # row written, session not yet created at Stripe
    OPEN = "open"  # the user may pay
    PROCESSING = "processing"  # completed with a delayed payment method, money not yet in
    PAID = "paid"  # credits granted
    FAILED = "failed"  # the delayed payment failed
    EXPIRED = "expired"  # the session expired unpaid
    REFUNDED = "refunded"  # fully refunded
    PARTIALLY_REFUNDED = "partially_refunded"


@dataclass(frozen=True)
class TakeBack:
    """Credits to take back from a user: ``taken`` now, ``unrecovered`` already spent."""

    taken: int
    unrecovered: int


def credits_due_back(pack_credits: int, amount: int, refunded_total: int, already_reversed: int) -> int:
    """Credits a refund of ``refunded_total`` (cumulative, minor units) newly takes back.

    Credits are returned in proportion to the money returned, rounded down in the user's
    favour; what earlier refunds of the same payment took back is not counted twice.
    """
    refunded_total = max(0, min(refunded_total, amount))
    due = pack_credits * refunded_total // amount
    return max(0, due - already_reversed)


def take_back(due: int, available: int) -> TakeBack:
    """Take ``due`` credits from ``available`` ones; spent credits cannot be recovered."""
    taken = max(0, min(due, available))
    return TakeBack(taken=taken, unrecovered=due - taken)


def retained_until(created_at: datetime, years: int) -> date:
    """The day a payment record may be purged (tax law: ``years`` after the payment)."""
    day = created_at.date()
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)
