"""Events published by the billing service."""

from __future__ import annotations

import uuid
from typing import ClassVar

from .base import Event


class _Billing(Event):
    producer: ClassVar[str] = "billing"


class CreditsPurchased(_Billing):
    """A paid checkout session granted credits."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    payment_id: uuid.UUID
    plan_id: str
    credits: int
    amount: int
    currency: str


class CreditsReserved(_Billing):
    """Credits are held for a generation."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    hold_id: uuid.UUID
    generation_id: uuid.UUID
    credits: int


class CreditsCaptured(_Billing):
    """A hold became a spend when its generation completed."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    hold_id: uuid.UUID
    generation_id: uuid.UUID
    credits: int


class CreditsReleased(_Billing):
    """A hold was voided (generation failed, cancelled or the hold expired)."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    hold_id: uuid.UUID
    generation_id: uuid.UUID
    credits: int
    reason: str


class CreditsRefunded(_Billing):
    """A Stripe refund took credits back; ``unrecovered`` were already spent."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    payment_id: uuid.UUID
    credits_reversed: int
    unrecovered: int


class PaymentDisputed(_Billing):
    """A dispute was opened (``open``) or closed; spending is frozen while open."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    payment_id: uuid.UUID
    open: bool
