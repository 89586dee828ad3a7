"""Checkout gateways: Stripe's Checkout Session API, or the embedded mode's simulation.

Both speak in :class:`CheckoutSession`, a Stripe-shaped session reduced to what billing reads.
The session carries our payment id in its metadata, never anything about the user.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, Protocol
from urllib.parse import urlparse

import stripe
from aiflux_kit.http import guard_host

from ..domain.packs import CreditPack
from ..settings import BillingSettings


class GatewayUnavailable(Exception):
    """The payment provider could not be reached or failed (5xx): retry later."""


@dataclass(frozen=True)
class CheckoutSession:
    """The fields of a Stripe Checkout Session billing relies on."""

    id: str
    url: str | None
    status: str  # open | complete | expired
    payment_status: str  # paid | unpaid | no_payment_required
    payment_id: uuid.UUID | None
    amount_total: int | None
    currency: str | None
    created: int
    payment_intent: str | None

    @property
    def is_paid(self) -> bool:
        """True when the money is in (Stripe: complete and paid)."""
        return self.status == "complete" and self.payment_status in ("paid", "no_payment_required")

    @classmethod
    def from_stripe(cls, obj: Mapping[str, Any]) -> CheckoutSession:
        """Read a session from Stripe's JSON (an API answer or a webhook's ``data.object``)."""
        metadata = obj.get("metadata") or {}
        intent = obj.get("payment_intent")
        if isinstance(intent, Mapping):  # expanded
            intent = intent.get("id")
        return cls(
            id=str(obj["id"]),
            url=obj.get("url"),
            status=str(obj.get("status") or ""),
            payment_status=str(obj.get("payment_status") or ""),
            payment_id=_uuid_or_none(metadata.get("payment_id")),
            amount_total=obj.get("amount_total"),
            currency=obj.get("currency"),
            created=int(obj.get("created") or 0),
            payment_intent=intent,
        )


def _uuid_or_none(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def session_params(
    payment_id: uuid.UUID,
    pack: CreditPack,
    settings: BillingSettings,
) -> dict[str, Any]:
    """Parameters of ``POST /v1/checkout/sessions``: payment mode, one line, our ids only."""
    return {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": pack.currency,
                    "unit_amount": pack.amount,
                    "product_data": {"name": f"AIFLUX {pack.name}: {pack.credits} credits"},
                },
            }
        ],
        "success_url": settings.success_url,
        "cancel_url": settings.cancel_url,
        "client_reference_id": str(payment_id),
        "metadata": {"payment_id": str(payment_id), "plan_id": pack.id},
    }


class CheckoutGateway(Protocol):
    """What billing asks of a checkout provider."""

    async def create(self, payment_id: uuid.UUID, pack: CreditPack) -> CheckoutSession:
        """Open a payment-mode session for ``pack``."""

    async def retrieve(self, session_id: str) -> CheckoutSession | None:
        """The session, or None when the provider does not know it."""

    def list_since(self, created_gte: int) -> AsyncIterator[CheckoutSession]:
        """Every session created at or after ``created_gte`` (epoch seconds)."""

    async def expire(self, session_id: str) -> CheckoutSession | None:
        """Expire an open session; None when it is unknown. A closed one is left as it is."""

    async def find_by_payment_intent(self, payment_intent: str) -> CheckoutSession | None:
        """The session that created ``payment_intent`` (refunds and disputes name only it)."""


class StripeCheckout:
    """The real Stripe API through the official SDK (async, over httpx)."""

    def __init__(self, settings: BillingSettings) -> None:
        # The SDK has its own HTTP stack, so the processor-registry guard runs here, once.
        guard_host("stripe", urlparse(settings.stripe_api_base).hostname or "", allow_local=settings.is_local)
        self._settings = settings
        self._client = stripe.StripeClient(
            settings.stripe_api_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base},
            http_client=stripe.HTTPXClient(timeout=20),
            max_network_retries=2,
        )
        self._sessions = self._client.v1.checkout.sessions

    async def create(self, payment_id: uuid.UUID, pack: CreditPack) -> CheckoutSession:
        """Create the session; the payment id is the idempotency key, so retries are safe."""
        params: Any = session_params(payment_id, pack, self._settings)
        with _translated():
            session = await self._sessions.create_async(params, {"idempotency_key": f"checkout-{payment_id}"})
        return CheckoutSession.from_stripe(session.to_dict())

    async def retrieve(self, session_id: str) -> CheckoutSession | None:
        """``GET /v1/checkout/sessions/{id}``; None on 404."""
        try:
            with _translated():
                session = await self._sessions.retrieve_async(session_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            raise
        return CheckoutSession.from_stripe(session.to_dict())

    async def list_since(self, created_gte: int) -> AsyncIterator[CheckoutSession]:
        """``GET /v1/checkout/sessions?created[gte]=..`` page by page (``starting_after``)."""
        params: dict[str, Any] = {"created": {"gte": created_gte}, "limit": 100}
        while True:
            with _translated():
                page = await self._sessions.list_async(params)  # type: ignore[arg-type]
            items = [s.to_dict() for s in page.data]
            for item in items:
                yield CheckoutSession.from_stripe(item)
            if not page.has_more or not items:
                return
            params["starting_after"] = items[-1]["id"]

    async def expire(self, session_id: str) -> CheckoutSession | None:
        """``POST /v1/checkout/sessions/{id}/expire``; Stripe refuses when it is not open."""
        try:
            with _translated():
                session = await self._sessions.expire_async(session_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return None
            return await self.retrieve(session_id)  # already complete or expired
        return CheckoutSession.from_stripe(session.to_dict())

    async def find_by_payment_intent(self, payment_intent: str) -> CheckoutSession | None:
        """``GET /v1/checkout/sessions?payment_intent=..``."""
        with _translated():
            page = await self._sessions.list_async({"payment_intent": payment_intent, "limit": 1})
        return CheckoutSession.from_stripe(page.data[0].to_dict()) if page.data else None


class _translated:
    """Turn Stripe's transient failures into :class:`GatewayUnavailable`."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> Literal[False]:
        if isinstance(exc, stripe.APIConnectionError | stripe.RateLimitError):
            raise GatewayUnavailable(type(exc).__name__) from exc
        if isinstance(exc, stripe.StripeError) and (exc.http_status or 500) >= 500:
            raise GatewayUnavailable(type(exc).__name__) from exc
        if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
            raise GatewayUnavailable("stripe refused our credentials") from exc
        return False
