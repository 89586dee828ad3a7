"""Tables of the billing service.

Payments keep only what policy §2 allows: the Stripe session id, the plan, the amount and
currency, a status and timestamps (never card data). ``account`` is the per-user balance row
every credit movement locks, so the balance can never go negative (the CHECKs are the last
line of defence).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from aiflux_kit.db import make_base
from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    String,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if TYPE_CHECKING:  # make_base() builds the class at runtime; mypy needs a static one

    class Base(DeclarativeBase):
        """The billing service's declarative base."""
else:
    Base = make_base()


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class Account(Base):
    """A user's credits: ``available`` to spend, ``held`` by running generations."""

    __tablename__ = "account"
    __table_args__ = (
        CheckConstraint("available >= 0", name="available_not_negative"),
        CheckConstraint("held >= 0", name="held_not_negative"),
        CheckConstraint("open_disputes >= 0", name="open_disputes_not_negative"),
    )

    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    available: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    held: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    open_disputes: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    updated_at: Mapped[datetime] = _now()


class LedgerEntry(Base):
    """One append-only credit movement (positive grants, negative spends and take-backs)."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        # One grant per checkout session and one spend per hold, whatever retries happen.
        Index(
            "uq_ledger_entry_purchase", "payment_id", unique=True, postgresql_where=text("kind = 'purchase'")
        ),
        Index("uq_ledger_entry_spend", "hold_id", unique=True, postgresql_where=text("kind = 'spend'")),
        Index("ix_ledger_entry_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False)
    kind: Mapped[str] = mapped_column(String(20), nullable=False)
    credits: Mapped[int] = mapped_column(Integer, nullable=False)
    payment_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    hold_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    generation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()


class Hold(Base):
    """Credits reserved for one generation (the generation id is the idempotency key)."""

    __tablename__ = "hold"
    __table_args__ = (
        CheckConstraint("credits > 0", name="credits_positive"),
        Index("ix_hold_expiry", "expires_at", postgresql_where=text("status = 'held'")),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    generation_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    credits: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(12), nullable=False)
    reason: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_at: Mapped[datetime] = _now()
    settled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Payment(Base):
    """One Checkout Session. ``user_id`` is dropped when the user is erased (pseudonymised)."""

    __tablename__ = "payment"

    seq: Mapped[int] = mapped_column(BigInteger, Identity(), unique=True, nullable=False)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    plan_id: Mapped[str] = mapped_column(String(40), nullable=False)
    credits: Mapped[int] = mapped_column(Integer, nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    currency: Mapped[str] = mapped_column(String(3), nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)
    fulfilled_via: Mapped[str | None] = mapped_column(String(20))
    refunded_amount: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    credits_reversed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    credits_unrecovered: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    pseudonymised_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retain_until: Mapped[date] = mapped_column(Date, nullable=False, index=True)


class Dispute(Base):
    """A Stripe dispute on a payment; spending is frozen while any is open."""

    __tablename__ = "dispute"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    payment_id: Mapped[uuid.UUID] = mapped_column(Uuid, nullable=False, index=True)
    status: Mapped[str] = mapped_column(String(40), nullable=False)
    amount: Mapped[int] = mapped_column(Integer, nullable=False)
    opened_at: Mapped[datetime] = _now()
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    credits_reversed: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")
    credits_unrecovered: Mapped[int] = mapped_column(Integer, nullable=False, server_default="0")


class StripeEvent(Base):
    """Every Stripe event id handled, so a redelivered or replayed event has no effect."""

    __tablename__ = "stripe_event"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str] = mapped_column(String(40), nullable=False)
    received_at: Mapped[datetime] = _now()


class SimulatedCheckoutSession(Base):
    """Embedded mode's stand-in for Stripe's Checkout Sessions, in Stripe's JSON shape."""

    __tablename__ = "simulated_checkout_session"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    created: Mapped[int] = mapped_column(BigInteger, nullable=False, index=True)
    payment_intent: Mapped[str | None] = mapped_column(String(255), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    pay_token_hash: Mapped[str | None] = mapped_column(String(64))


class ErasureReceipt(Base):
    """The receipt of an erasure request: totals over every run (first or re-driven)."""

    __tablename__ = "erasure_receipt"

    request_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    deleted: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    retained: Mapped[list[Any]] = mapped_column(JSONB, nullable=False)
    created_at: Mapped[datetime] = _now()
