"""The embedded mode's checkout page, standing in for Stripe's hosted one.

The page shows the pack and a "Pay" button; its form carries a one-time token (issued with the
page, stored hashed, consumed by the payment), so a cross-site post cannot pay and a replayed
post pays nothing. Paying sends a signed ``checkout.session.completed`` to the real webhook
route over HTTP; if that fails, the reconciliation sweep still finds the paid session.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..adapters.simulated import SimulatedCheckout
from ..adapters.stripe_webhooks import send_event
from ..domain.errors import CheckoutNotPayable, NotFound
from ..settings import BillingSettings


@dataclass(frozen=True)
class CheckoutPage:
    """What the page shows: the pack and its price, and the form's token while payable."""

    session_id: str
    status: str
    plan_id: str
    amount: str
    pay_token: str | None


def _simulated(simulated: SimulatedCheckout | None) -> SimulatedCheckout:
    if simulated is None:
        raise NotFound("No such checkout page (only the embedded mode simulates Stripe).")
    return simulated


async def checkout_page(simulated: SimulatedCheckout | None, session_id: str) -> CheckoutPage:
    """The page of a simulated session, with a fresh one-time token while it is open."""
    body = await _simulated(simulated).body(session_id)
    if body is None:
        raise NotFound("No such checkout session.")
    token = await _simulated(simulated).issue_pay_token(session_id)
    amount = f"{body['amount_total'] / 100:.2f} {str(body['currency']).upper()}"
    return CheckoutPage(session_id, str(body["status"]), str(body["metadata"]["plan_id"]), amount, token)


async def pay(
    simulated: SimulatedCheckout | None, settings: BillingSettings, session_id: str, token: str
) -> str:
    """Pay the session with its one-time token, send Stripe's webhook; the success URL."""
    paid = await _simulated(simulated).pay(session_id, token) if token else None
    if paid is None:
        raise CheckoutNotPayable("This checkout is closed or the page is stale; reload it to pay.")
    await send_event(settings, "checkout.session.completed", paid)
    return str(paid["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
