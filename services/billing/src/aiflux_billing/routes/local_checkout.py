"""The embedded mode's checkout page, standing in for Stripe's hosted one.

``GET`` shows the pack and a "Pay" button; the form carries a one-time token (issued with the
page, stored hashed, consumed by the payment), so a cross-site post cannot pay and a replayed
post pays nothing. Paying sends a ``checkout.session.completed`` event, signed with the
configured webhook secret, to the real webhook route over HTTP; if that fails, the
reconciliation sweep still finds the paid session.
"""

from __future__ import annotations

import html
import logging
from urllib.parse import parse_qs

import httpx
from aiflux_kit.errors import Problem, not_found
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..adapters.simulated import SimulatedCheckout
from ..adapters.stripe_webhooks import event_payload, signature_header
from .deps import Container

log = logging.getLogger(__name__)

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
                               "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",  # no clickjacking of the pay button
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}


def _simulated(container: Container) -> SimulatedCheckout:
    if container.simulated is None:
        raise not_found("checkout page (only the embedded mode simulates Stripe)")
    simulated: SimulatedCheckout = container.simulated
    return simulated


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body style='font-family:sans-serif;max-width:30em;margin:3em auto'>{body}</body>"
        "</html>", headers=PAGE_HEADERS)


def add_local_checkout_routes(router: APIRouter) -> None:
    """``GET /v1/billing/checkout/local/{id}`` and its form's ``POST .../pay``."""

    @router.get("/v1/billing/checkout/local/{session_id}", response_class=HTMLResponse,
                include_in_schema=False)
    async def checkout_page(session_id: str, container: Container) -> HTMLResponse:
        """The local stand-in for Stripe's hosted checkout page."""
        simulated = _simulated(container)
        body = await simulated.body(session_id)
        if body is None:
            raise not_found("checkout session")
        token = await simulated.issue_pay_token(session_id)
        amount = f"{body['amount_total'] / 100:.2f} {str(body['currency']).upper()}"
        if token is None:
            return _page("Checkout", f"<p>This checkout is {html.escape(body['status'])}.</p>")
        sid = html.escape(session_id)
        return _page("AIFLUX checkout (simulated)", (
            f"<h1>AIFLUX credits</h1><p>Plan: {html.escape(body['metadata']['plan_id'])}</p>"
            f"<p>Amount: {html.escape(amount)}</p>"
            "<p><small>Simulated Stripe Checkout (embedded mode): no card needed.</small></p>"
            f"<form method='post' action='/v1/billing/checkout/local/{sid}/pay'>"
            f"<input type='hidden' name='token' value='{html.escape(token)}'>"
            "<button type='submit'>Pay</button></form>"))

    @router.post("/v1/billing/checkout/local/{session_id}/pay", include_in_schema=False)
    async def pay(session_id: str, request: Request, container: Container) -> RedirectResponse:
        """Pay the simulated session and send Stripe's webhook for it."""
        simulated = _simulated(container)
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0]
        paid = await simulated.pay(session_id, token) if token else None
        if paid is None:
            raise Problem(409, "checkout-not-payable", "Cannot pay",
                          "This checkout is closed or the page is stale; reload it to pay.")
        await _send_webhook(container, paid)
        target = str(paid["success_url"]).replace("{CHECKOUT_SESSION_ID}", session_id)
        return RedirectResponse(target, status_code=303)


async def _send_webhook(container: Container, session: dict[str, object]) -> None:
    payload = event_payload("checkout.session.completed", session)
    secret = container.settings.stripe_webhook_secret.get_secret_value()
    url = f"{container.settings.public_url}/v1/billing/stripe/webhook"
    try:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(url, content=payload, headers={
                "Stripe-Signature": signature_header(payload, secret),
                "Content-Type": "application/json"})
        response.raise_for_status()
    except httpx.HTTPError as exc:
        log.warning("simulated webhook not delivered; reconciliation will fulfil it",
                    extra={"error": type(exc).__name__})
