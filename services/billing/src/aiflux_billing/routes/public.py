"""User routes (/v1/billing/...) and the Stripe webhook."""

from __future__ import annotations

from typing import Any

from aiflux_kit.auth import CurrentUser
from aiflux_kit.errors import Problem
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from ..adapters.orm import Account, LedgerEntry, Payment
from ..handlers import credits, payments, privacy, webhooks
from .deps import Container, Cursor, Limit, page


class CheckoutRequest(BaseModel):
    """``POST /v1/billing/checkout``."""

    model_config = ConfigDict(extra="forbid")

    plan_id: str = Field(min_length=1, max_length=40)


def add_public_routes(router: APIRouter) -> None:
    """Plans, checkout, balance, ledger, payments, webhook."""

    @router.get("/v1/billing/plans")
    async def plans(container: Container) -> dict[str, Any]:
        """The credit packs on sale."""
        items = [p.model_dump() for p in container.settings.credit_packs]
        return {"items": items, "next_cursor": None}

    @router.post("/v1/billing/checkout", status_code=201)
    async def checkout(body: CheckoutRequest, user: CurrentUser, request: Request,
                       container: Container) -> dict[str, str]:
        """Open a Stripe Checkout Session for a credit pack; pay at ``checkout_url``."""
        pack = container.settings.pack(body.plan_id)
        if pack is None:
            raise Problem(422, "unknown-plan", "Unknown plan",
                          f"There is no credit pack {body.plan_id!r}; see /v1/billing/plans.")
        await request.app.state.limiter.hit("billing.checkout", str(user.user_id),
                                            container.settings.checkout_rate_limit)
        session = await payments.start_checkout(
            container.database, container.gateway, user.user_id, pack,
            container.settings.payment_retention_years)
        return {"checkout_url": session.url or "", "session_id": session.id}

    @router.post("/v1/billing/stripe/webhook")
    async def stripe_webhook(request: Request, container: Container) -> dict[str, Any]:
        """Stripe events, verified with the ``Stripe-Signature`` header."""
        event = webhooks.verify(
            await request.body(), request.headers.get("stripe-signature"),
            container.settings.stripe_webhook_secret.get_secret_value(),
            container.settings.webhook_tolerance_s)
        outcome = await webhooks.handle(container.database, container.gateway, event)
        return {"received": True, "outcome": outcome}

    @router.get("/v1/billing/balance")
    async def balance(user: CurrentUser, container: Container) -> dict[str, Any]:
        """Credits available and held by running generations."""
        async with container.database.transaction() as session:
            available, held = await credits.balance(session, user.user_id)
            account = await session.get(Account, user.user_id)
        frozen = bool(account and account.open_disputes)
        return {"credits": available, "held": held, "spending_frozen": frozen}

    @router.get("/v1/billing/ledger")
    async def ledger(user: CurrentUser, container: Container, limit: Limit = 50,
                     cursor: Cursor = None) -> dict[str, Any]:
        """The user's ledger entries, newest first."""
        query = select(LedgerEntry).where(LedgerEntry.user_id == user.user_id)
        if cursor:
            query = query.where(LedgerEntry.id < cursor)
        async with container.database.transaction() as session:
            rows = (await session.scalars(query.order_by(LedgerEntry.id.desc())
                                          .limit(limit + 1))).all()
        return page([privacy.entry_json(r) for r in rows], [r.id for r in rows], limit)

    @router.get("/v1/billing/payments")
    async def user_payments(user: CurrentUser, container: Container, limit: Limit = 50,
                            cursor: Cursor = None) -> dict[str, Any]:
        """The user's payments (session id, plan, amount, status), newest first."""
        query = select(Payment).where(Payment.user_id == user.user_id)
        if cursor:
            query = query.where(Payment.seq < cursor)
        async with container.database.transaction() as session:
            rows = (await session.scalars(query.order_by(Payment.seq.desc())
                                          .limit(limit + 1))).all()
        return page([privacy.payment_json(r) for r in rows], [r.seq for r in rows], limit)
