"""Every request and response body of the billing routes (the HTTP contract, typed)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema

# Timestamps keep the form the API always had (Python's isoformat, ``+00:00``).
Timestamp = Annotated[
    datetime,
    PlainSerializer(datetime.isoformat, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
NextCursor = Annotated[str | None, Field(description="pass as ?cursor= for the next page")]


class RequestBody(BaseModel):
    """A request body: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")


# --- requests ---------------------------------------------------------------------------------


class CheckoutRequest(RequestBody):
    """``POST /v1/billing/checkout``."""

    plan_id: str = Field(min_length=1, max_length=40)


class HoldRequest(RequestBody):
    """``POST /internal/billing/holds``."""

    user_id: uuid.UUID
    generation_id: uuid.UUID
    credits: int = Field(gt=0, le=1_000_000)


class VoidRequest(RequestBody):
    """``POST /internal/billing/holds/{generation_id}/void``."""

    reason: str = Field(default="unspecified", max_length=500)


# --- user answers -----------------------------------------------------------------------------


class Plan(BaseModel):
    """A credit pack on sale (``amount`` in minor units of ``currency``)."""

    id: str
    name: str
    credits: int
    amount: int
    currency: str


class PlanList(BaseModel):
    """``GET /v1/billing/plans``."""

    items: list[Plan]
    next_cursor: NextCursor = None


class CheckoutStarted(BaseModel):
    """``POST /v1/billing/checkout``: pay at ``checkout_url``."""

    checkout_url: str
    session_id: str


class WebhookReceipt(BaseModel):
    """What billing did with a Stripe event."""

    received: bool
    outcome: str


class Balance(BaseModel):
    """``GET /v1/billing/balance``."""

    credits: int
    held: int
    spending_frozen: bool


class LedgerEntry(BaseModel):
    """One credit movement of the user."""

    id: int
    kind: str
    credits: int
    payment_id: uuid.UUID | None
    generation_id: uuid.UUID | None
    note: str | None
    created_at: Timestamp


class LedgerPage(BaseModel):
    """``GET /v1/billing/ledger``, newest first."""

    items: list[LedgerEntry]
    next_cursor: NextCursor


class Payment(BaseModel):
    """A payment as its owner sees it."""

    payment_id: uuid.UUID
    session_id: str | None
    plan_id: str
    credits: int
    amount: int
    currency: str
    status: str
    refunded_amount: int
    created_at: Timestamp
    paid_at: Timestamp | None


class PaymentPage(BaseModel):
    """``GET /v1/billing/payments``, newest first."""

    items: list[Payment]
    next_cursor: NextCursor


# --- generation's holds -----------------------------------------------------------------------


class Hold(BaseModel):
    """A hold as the generation service sees it."""

    hold_id: uuid.UUID
    generation_id: uuid.UUID
    credits: int
    status: str


# --- operators --------------------------------------------------------------------------------


class OpsPayment(BaseModel):
    """A payment as operators see it: no user id (payments, not people)."""

    payment_id: uuid.UUID
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
    created_at: Timestamp
    paid_at: Timestamp | None
    pseudonymised: bool
    retain_until: date


class OpsPaymentPage(BaseModel):
    """Payments, newest first."""

    items: list[OpsPayment]
    next_cursor: NextCursor


class Dispute(BaseModel):
    """A Stripe dispute on a payment."""

    dispute_id: str
    payment_id: uuid.UUID
    status: str
    amount: int
    opened_at: Timestamp
    closed_at: Timestamp | None
    credits_reversed: int
    credits_unrecovered: int


class DisputeList(BaseModel):
    """The latest disputes (at most 200)."""

    items: list[Dispute]
    next_cursor: NextCursor = None


class SweepRun(BaseModel):
    """One run of a sweep."""

    started_at: Timestamp
    finished_at: Timestamp | None
    counts: dict[str, int]
    error: str | None


class Reconciliation(OpsPaymentPage):
    """The last reconciliation run and the payments it fulfilled."""

    last_run: SweepRun | None


class SweepOutcome(BaseModel):
    """What a sweep run now did."""

    counts: dict[str, int]
    error: str | None
