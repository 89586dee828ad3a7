"""Stripe webhook payloads and signatures, built exactly as Stripe builds them.

Stripe signs ``"<t>.<raw body>"`` with HMAC-SHA256 under the endpoint secret and sends
``Stripe-Signature: t=<unix time>,v1=<hex digest>`` (https://docs.stripe.com/webhooks#verify-manually).
:func:`signature_header` is the one place that signs, with the stripe SDK's own
``WebhookSignature.generate_signature_header``: the embedded mode's checkout page signs its
webhook with it, and so do the tests.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from typing import Any

import httpx
import stripe

from ..settings import BillingSettings

API_VERSION = "2025-01-27.acacia"

log = logging.getLogger(__name__)


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload`` (now, unless ``timestamp``)."""
    header: str = stripe.WebhookSignature.generate_signature_header(payload, secret, timestamp)
    return header


def event_payload(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> str:
    """A Stripe ``event`` object (snapshot payload) around ``obj``, as JSON text."""
    return json.dumps(
        {
            "id": event_id or f"evt_{secrets.token_hex(12)}",
            "object": "event",
            "api_version": API_VERSION,
            "created": int(time.time()),
            "type": event_type,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": None, "idempotency_key": None},
            "data": {"object": obj},
        }
    )


async def send_event(settings: BillingSettings, event_type: str, obj: dict[str, Any]) -> bool:
    """POST a signed event to billing's own webhook route, as Stripe would; False if it failed
    (the reconciliation sweep then finds the paid session)."""
    payload = event_payload(event_type, obj)
    secret = settings.stripe_webhook_secret.get_secret_value()
    url = f"{settings.public_url}/v1/billing/stripe/webhook"
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                url,
                content=payload,
                headers={
                    "Stripe-Signature": signature_header(payload, secret),
                    "Content-Type": "application/json",
                },
            )
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning(
            "simulated webhook not delivered; reconciliation will fulfil it",
            extra={"error": type(exc).__name__},
        )
        return False
    return True
