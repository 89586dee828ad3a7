"""Stripe webhook payloads and signatures, built exactly as Stripe builds them.

Stripe signs ``"<t>.<raw body>"`` with HMAC-SHA256 under the endpoint secret and sends
``Stripe-Signature: t=<unix time>,v1=<hex digest>`` (https://docs.stripe.com/webhooks#verify-manually).
The embedded mode's checkout page uses this to send its webhook; tests use it too.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any

API_VERSION = "2025-01-27.acacia"


def signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header value for ``payload``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


def event_payload(event_type: str, obj: dict[str, Any], event_id: str | None = None) -> str:
    """A Stripe ``event`` object (snapshot payload) around ``obj``, as JSON text."""
    return json.dumps({
        "id": event_id or f"evt_{secrets.token_hex(12)}",
        "object": "event",
        "api_version": API_VERSION,
        "created": int(time.time()),
        "type": event_type,
        "livemode": False,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "data": {"object": obj},
    })
