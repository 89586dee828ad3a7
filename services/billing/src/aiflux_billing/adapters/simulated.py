"""The embedded mode's stand-in for Stripe Checkout.

Sessions are kept in billing's own database in Stripe's JSON shape, so the rest of billing
(webhooks, reconciliation, erasure) treats them exactly like Stripe's. The local checkout page
pays a session with a one-time token and then sends a signed ``checkout.session.completed``.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

from aiflux_kit.auth import token_hash
from aiflux_kit.constant_time import equal
from aiflux_kit.db import Database
from sqlalchemy import select, update

from ..domain.packs import CreditPack
from ..settings import BillingSettings
from .checkout import CheckoutSession, session_params
from .orm import SimulatedCheckoutSession as Row

SESSION_LIFETIME_S = 24 * 3600


class SimulatedCheckout:
    """Checkout Sessions simulated locally (embedded mode)."""

    def __init__(self, database: Database, settings: BillingSettings) -> None:
        self._db = database
        self._settings = settings

    async def create(self, payment_id: uuid.UUID, pack: CreditPack) -> CheckoutSession:
        """Store a new open session whose URL is the local checkout page."""
        session_id = f"cs_sim_{secrets.token_hex(16)}"
        now = int(time.time())
        params = session_params(payment_id, pack, self._settings)
        body: dict[str, Any] = {
            "id": session_id,
            "object": "checkout.session",
            "mode": "payment",
            "status": "open",
            "payment_status": "unpaid",
            "amount_total": pack.amount,
            "currency": pack.currency,
            "created": now,
            "expires_at": now + SESSION_LIFETIME_S,
            "client_reference_id": params["client_reference_id"],
            "metadata": params["metadata"],
            "payment_intent": None,
            "livemode": False,
            "success_url": params["success_url"],
            "cancel_url": params["cancel_url"],
            "url": f"{self._settings.public_url}/v1/billing/checkout/local/{session_id}",
        }
        async with self._db.transaction() as session:
            session.add(Row(id=session_id, created=now, body=body))
        return CheckoutSession.from_stripe(body)

    async def body(self, session_id: str) -> dict[str, Any] | None:
        """The stored Stripe-shaped session."""
        async with self._db.transaction() as session:
            row = await session.get(Row, session_id)
            return dict(row.body) if row else None

    async def retrieve(self, session_id: str) -> CheckoutSession | None:
        """The session, or None."""
        body = await self.body(session_id)
        return CheckoutSession.from_stripe(body) if body else None

    async def list_since(self, created_gte: int) -> AsyncIterator[CheckoutSession]:
        """Sessions created since ``created_gte``, newest first like Stripe."""
        async with self._db.transaction() as session:
            rows = (
                await session.scalars(
                    select(Row).where(Row.created >= created_gte).order_by(Row.created.desc(), Row.id)
                )
            ).all()
        for row in rows:
            yield CheckoutSession.from_stripe(row.body)

    async def expire(self, session_id: str) -> CheckoutSession | None:
        """Expire the session if it is still open."""
        await self._transition(session_id, {"status": "expired"}, token=None)
        return await self.retrieve(session_id)

    async def find_by_payment_intent(self, payment_intent: str) -> CheckoutSession | None:
        """The session paid with ``payment_intent``."""
        async with self._db.transaction() as session:
            row = await session.scalar(select(Row).where(Row.payment_intent == payment_intent))
            return CheckoutSession.from_stripe(row.body) if row else None

    async def issue_pay_token(self, session_id: str) -> str | None:
        """A fresh one-time token for the checkout page's form; None unless the session is open."""
        token = secrets.token_urlsafe(32)
        async with self._db.transaction() as session:
            done = await session.execute(
                update(Row)
                .where(Row.id == session_id, Row.body["status"].astext == "open")
                .values(pay_token_hash=token_hash(token))
                .returning(Row.id)
            )
            return token if done.first() else None

    async def pay(self, session_id: str, token: str) -> dict[str, Any] | None:
        """Mark the session paid if ``token`` is its current one-time token; the paid body."""
        changes = {
            "status": "complete",
            "payment_status": "paid",
            "payment_intent": f"pi_sim_{secrets.token_hex(12)}",
        }
        return await self._transition(session_id, changes, token=token)

    async def _transition(
        self, session_id: str, changes: dict[str, Any], token: str | None
    ) -> dict[str, Any] | None:
        async with self._db.transaction() as session:
            query = select(Row).where(Row.id == session_id).with_for_update()
            row = await session.scalar(query)
            if row is None or row.body.get("status") != "open":
                return None
            if token is not None and not (
                row.pay_token_hash and equal(row.pay_token_hash, token_hash(token))
            ):
                return None
            row.body = {**row.body, **changes}
            row.payment_intent = changes.get("payment_intent", row.payment_intent)
            row.pay_token_hash = None  # one-time: a replayed form post finds no token
            return dict(row.body)
