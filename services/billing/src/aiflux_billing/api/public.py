"""User routes (/v1/billing/...), the Stripe webhook and the embedded mode's checkout page."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated
from urllib.parse import parse_qs

from aiflux_kit.auth import CurrentUser
from aiflux_kit.errors import Problem
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Header, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from ..bootstrap import Container, Cursor, Limit
from ..domain.errors import RETRY_AFTER_S, PaymentProviderUnavailable
from ..handlers import local_checkout, payments, statements, webhooks
from ..handlers.local_checkout import CheckoutPage
from ..schemas import (
    Balance,
    CheckoutRequest,
    CheckoutStarted,
    LedgerEntry,
    LedgerPage,
    Payment,
    PaymentPage,
    Plan,
    PlanList,
    WebhookReceipt,
)

router = APIRouter()

PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",  # no clickjacking of the pay button
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
}
USER_LIST_PROBLEMS = problem_responses(401, 422, 503)


@contextmanager
def _retry_later() -> Iterator[None]:
    """Stripe down: the 503 carries ``Retry-After`` (HTTP, so it is added here)."""
    try:
        yield
    except PaymentProviderUnavailable as down:
        raise Problem(
            down.status, down.slug, down.title, down.detail, headers={"Retry-After": str(RETRY_AFTER_S)}
        ) from None


@router.get("/v1/billing/plans", response_model=PlanList, summary="Credit packs on sale")
async def plans(container: Container) -> PlanList:
    """The credit packs on sale."""
    return PlanList(items=[Plan.model_validate(p.model_dump()) for p in container.settings.credit_packs])


@router.post(
    "/v1/billing/checkout",
    status_code=201,
    response_model=CheckoutStarted,
    summary="Buy a credit pack",
    responses=problem_responses(401, 410, 413, 422, 429, 503),
)
async def checkout(
    body: CheckoutRequest, user: CurrentUser, request: Request, container: Container
) -> CheckoutStarted:
    """Open a Stripe Checkout Session for a credit pack; pay at ``checkout_url``."""
    pack = payments.pack_on_sale(container.settings.credit_packs, body.plan_id)
    await request.app.state.limiter.hit(
        "billing.checkout", str(user.user_id), container.settings.checkout_rate_limit
    )
    with _retry_later():
        session = await payments.start_checkout(
            container.database,
            container.gateway,
            user.user_id,
            pack,
            container.settings.payment_retention_years,
        )
    return CheckoutStarted(checkout_url=session.url or "", session_id=session.id)


@router.post(
    "/v1/billing/stripe/webhook",
    response_model=WebhookReceipt,
    summary="Stripe events",
    responses=problem_responses(400, 413, 503),
)
async def stripe_webhook(
    request: Request,
    container: Container,
    stripe_signature: Annotated[str | None, Header()] = None,
) -> WebhookReceipt:
    """Stripe events, verified with the ``Stripe-Signature`` header (raw JSON body)."""
    settings = container.settings
    event = webhooks.verify(
        await request.body(),
        stripe_signature,
        settings.stripe_webhook_secret.get_secret_value(),
        settings.webhook_tolerance_s,
    )
    with _retry_later():
        outcome = await webhooks.handle(container.database, container.gateway, event)
    return WebhookReceipt(received=True, outcome=outcome)


@router.get(
    "/v1/billing/balance",
    response_model=Balance,
    summary="Credit balance",
    responses=problem_responses(401, 503),
)
async def balance(user: CurrentUser, container: Container) -> Balance:
    """Credits available and held by running generations."""
    account = await statements.balance(container.database, user.user_id)
    return Balance(credits=account.available, held=account.held, spending_frozen=account.spending_frozen)


@router.get(
    "/v1/billing/ledger", response_model=LedgerPage, summary="Credit ledger", responses=USER_LIST_PROBLEMS
)
async def ledger(
    user: CurrentUser, container: Container, limit: Limit = 50, cursor: Cursor = None
) -> LedgerPage:
    """The user's ledger entries, newest first."""
    page = await statements.ledger(container.database, user.user_id, limit, cursor)
    return LedgerPage(
        items=[LedgerEntry.model_validate(e, from_attributes=True) for e in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/v1/billing/payments", response_model=PaymentPage, summary="Payments", responses=USER_LIST_PROBLEMS
)
async def user_payments(
    user: CurrentUser, container: Container, limit: Limit = 50, cursor: Cursor = None
) -> PaymentPage:
    """The user's payments (session id, plan, amount, status), newest first."""
    page = await statements.payments(container.database, limit, cursor, user_id=user.user_id)
    return PaymentPage(
        items=[Payment.model_validate(p, from_attributes=True) for p in page.items],
        next_cursor=page.next_cursor,
    )


@router.get("/v1/billing/checkout/local/{session_id}", response_class=HTMLResponse, include_in_schema=False)
async def checkout_page(session_id: str, container: Container) -> HTMLResponse:
    """The local stand-in for Stripe's hosted checkout page (text/html)."""
    page = await local_checkout.checkout_page(container.simulated, session_id)
    if page.pay_token is None:
        return _html("Checkout", f"<p>This checkout is {html.escape(page.status)}.</p>")
    return _html("AIFLUX checkout (simulated)", _pay_form(page))


@router.post(
    "/v1/billing/checkout/local/{session_id}/pay", response_class=RedirectResponse, include_in_schema=False
)
async def pay(session_id: str, request: Request, container: Container) -> RedirectResponse:
    """Pay the simulated session (form post) and send Stripe's webhook; 303 to success."""
    form = parse_qs((await request.body()).decode("utf-8", "replace"))
    token = (form.get("token") or [""])[0]
    target = await local_checkout.pay(container.simulated, container.settings, session_id, token)
    return RedirectResponse(target, status_code=303)


def _pay_form(page: CheckoutPage) -> str:
    sid, token = html.escape(page.session_id), html.escape(page.pay_token or "")
    return (
        f"<h1>AIFLUX credits</h1><p>Plan: {html.escape(page.plan_id)}</p>"
        f"<p>Amount: {html.escape(page.amount)}</p>"
        "<p><small>Simulated Stripe Checkout (embedded mode): no card needed.</small></p>"
        f"<form method='post' action='/v1/billing/checkout/local/{sid}/pay'>"
        f"<input type='hidden' name='token' value='{token}'>"
        "<button type='submit'>Pay</button></form>"
    )


def _html(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><meta charset='utf-8'><title>{title}</title></head>"
        f"<body style='font-family:sans-serif;max-width:30em;margin:3em auto'>{body}</body>"
        "</html>",
        headers=PAGE_HEADERS,
    )
