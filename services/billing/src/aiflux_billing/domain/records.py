"""What billing keeps, as typed records handed from repositories to handlers (no ORM rows)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class AccountBalance:
    """A user's credits: ``available`` to spend, ``held`` by running generations."""

    available: int = 0
    held: int = 0
    open_disputes: int = 0

    @property
    def spending_frozen(self) -> bool:
        """Spending stops while a payment of the account is disputed."""
        return self.open_disputes > 0


@dataclass(frozen=True)
class LedgerRecord:
    """One append-only credit movement."""

    id: int
    kind: str
    credits: int
    payment_id: uuid.UUID | None
    generation_id: uuid.UUID | None
    note: str | None
    created_at: datetime


@dataclass(frozen=True)
class PaymentRecord:
    """One Checkout Session; ``user_id`` is None once the user is erased (pseudonymised)."""

    seq: int
    payment_id: uuid.UUID
    user_id: uuid.UUID | None
    session_id: str | None
    plan_id: str
    credits: int
    amount: int
    currency: str
    status: str
    fulfilled_via: str | None
    refunded_amount: int
    credits_reversed: int
    credits_unrecovered: int
    created_at: datetime
    paid_at: datetime | None
    retain_until: date

    @property
    def pseudonymised(self) -> bool:
        """True once the payment no longer names anyone (kept for tax law only)."""
        return self.user_id is None


@dataclass(frozen=True)
class DisputeRecord:
    """A Stripe dispute on a payment."""

    dispute_id: str
    payment_id: uuid.UUID
    status: str
    amount: int
    opened_at: datetime
    closed_at: datetime | None
    credits_reversed: int
    credits_unrecovered: int


@dataclass(frozen=True)
class HoldView:
    """A hold as the generation service sees it."""

    hold_id: uuid.UUID
    generation_id: uuid.UUID
    user_id: uuid.UUID
    credits: int
    status: str


@dataclass(frozen=True)
class Page(Generic[T]):
    """``limit`` items and the cursor of the next page (None on the last one)."""

    items: list[T] = field(default_factory=list)
    next_cursor: str | None = None
