"""Stripe webhook events: each event id handled once, in one transaction with its effect.

Handled: checkout sessions completed (paid now, or later for delayed methods), delayed payments
that succeed or fail, expired sessions, refunds, and disputes opened or closed. Every other
type is acknowledged and ignored, so Stripe stops resending it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import stripe
from aiflux_kit.constant_time import ascii_token
from aiflux_kit.db import Database
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters.checkout import CheckoutGateway, CheckoutSession, GatewayUnavailable
from ..adapters.payments import StripeEventJournal
from ..domain.errors import InvalidPayload, InvalidSignature, StripeLookupUnavailable
from ..domain.rules import PaymentStatus
from . import payments

log = logging.getLogger(__name__)

SessionHandler = Callable[[AsyncSession, CheckoutSession, Mapping[str, Any]], Awaitable[str]]


def verify(payload: bytes, signature: str | None, secret: str, tolerance: int) -> dict[str, Any]:
    """Check ``Stripe-Signature`` with the SDK and return the event; refused otherwise."""
    refused = InvalidSignature(
        "The Stripe-Signature header is missing, malformed, stale or does not match the payload."
    )
    # The SDK's own compare raises TypeError on non-ASCII text: refuse that first.
    if ascii_token(signature) is None:
        raise refused
    try:
        stripe.Webhook.construct_event(payload, signature, secret, tolerance)
    except stripe.SignatureVerificationError:
        raise refused from None
    except ValueError:
        raise InvalidPayload("The webhook body is not a JSON Stripe event.") from None
    event = json.loads(payload)
    obj = (event.get("data") or {}).get("object") if isinstance(event, dict) else None
    if not (
        isinstance(obj, dict) and isinstance(event.get("id"), str) and isinstance(event.get("type"), str)
    ):
        raise InvalidPayload("The event lacks an id, a type or data.object.")
    verified: dict[str, Any] = event
    return verified


async def _completed(session: AsyncSession, checkout: CheckoutSession, _: Any) -> str:
    if checkout.is_paid:
        return await payments.fulfil(session, checkout, via="webhook")
    # Delayed payment methods complete the session before the money arrives.
    return await payments.set_status(session, checkout, PaymentStatus.PROCESSING)


async def _async_succeeded(session: AsyncSession, checkout: CheckoutSession, _: Any) -> str:
    return await payments.fulfil(session, checkout, via="webhook")


async def _async_failed(session: AsyncSession, checkout: CheckoutSession, _: Any) -> str:
    return await payments.set_status(session, checkout, PaymentStatus.FAILED)


async def _expired(session: AsyncSession, checkout: CheckoutSession, _: Any) -> str:
    return await payments.set_status(session, checkout, PaymentStatus.EXPIRED)


async def _refunded(session: AsyncSession, checkout: CheckoutSession, charge: Mapping[str, Any]) -> str:
    return await payments.record_refund(session, checkout, int(charge.get("amount_refunded", 0)))


async def _dispute_created(
    session: AsyncSession, checkout: CheckoutSession, dispute: Mapping[str, Any]
) -> str:
    return await payments.open_dispute(
        session,
        checkout,
        str(dispute["id"]),
        str(dispute.get("status", "needs_response")),
        int(dispute.get("amount", 0)),
    )


async def _dispute_closed(
    session: AsyncSession, checkout: CheckoutSession, dispute: Mapping[str, Any]
) -> str:
    return await payments.close_dispute(session, checkout, str(dispute["id"]), str(dispute.get("status", "")))


SESSION_EVENTS: dict[str, SessionHandler] = {
    "checkout.session.completed": _completed,
    "checkout.session.async_payment_succeeded": _async_succeeded,
    "checkout.session.async_payment_failed": _async_failed,
    "checkout.session.expired": _expired,
}
CHARGE_EVENTS: dict[str, SessionHandler] = {
    "charge.refunded": _refunded,
    "charge.dispute.created": _dispute_created,
    "charge.dispute.closed": _dispute_closed,
}


async def checkout_of_event(gateway: CheckoutGateway, event: Mapping[str, Any]) -> CheckoutSession | None:
    """The checkout session an event is about (refunds and disputes: asked of Stripe)."""
    obj = event["data"]["object"]
    if event["type"] in SESSION_EVENTS:
        return CheckoutSession.from_stripe(obj) if obj.get("id") else None
    intent = obj.get("payment_intent")
    if not isinstance(intent, str):
        return None
    # Refunds and disputes name the PaymentIntent only; Stripe tells us its session.
    return await gateway.find_by_payment_intent(intent)


async def handle(database: Database, gateway: CheckoutGateway, event: Mapping[str, Any]) -> str:
    """Apply one verified event exactly once; returns what happened (for the response)."""
    handler = SESSION_EVENTS.get(event["type"]) or CHARGE_EVENTS.get(event["type"])
    checkout = None
    if handler is not None:
        try:
            checkout = await checkout_of_event(gateway, event)
        except GatewayUnavailable:
            raise StripeLookupUnavailable(
                "Stripe could not be asked about this event; it will be retried."
            ) from None
    async with database.transaction() as session:
        journal = StripeEventJournal(session)
        if not await journal.claim(event["id"], event["type"]):
            return "duplicate"
        if handler is None:
            outcome = "ignored"
        elif checkout is None:
            outcome = "unknown-session"
        else:
            outcome = await handler(session, checkout, event["data"]["object"])
        await journal.settle(event["id"], outcome)
    log.info("stripe event handled", extra={"stripe_event": event["id"], "outcome": outcome})
    return outcome
