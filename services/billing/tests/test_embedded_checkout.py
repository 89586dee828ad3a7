"""Embedded mode: a local checkout page stands in for Stripe's and sends a signed webhook."""

from __future__ import annotations

import re
from urllib.parse import urlparse

TOKEN = re.compile(r"name='token' value='([^']+)'")


async def _open_page(billing, headers) -> tuple[str, str]:
    answer = await billing.client.post("/v1/billing/checkout", json={"plan_id": "starter"}, headers=headers)
    assert answer.status_code == 201, answer.text
    path = urlparse(answer.json()["checkout_url"]).path
    assert path == f"/v1/billing/checkout/local/{answer.json()['session_id']}"
    page = await billing.client.get(path)
    assert page.status_code == 200 and "Pay" in page.text
    assert page.headers["x-frame-options"] == "DENY"
    return path, TOKEN.search(page.text).group(1)


async def test_paying_on_the_local_page_grants_credits_once(billing_stack):
    async with billing_stack(checkout_backend="simulated") as billing:
        _, headers = billing.sessions.sign_in()
        path, token = await _open_page(billing, headers)

        paid = await billing.client.post(f"{path}/pay", data={"token": token})
        replayed = await billing.client.post(f"{path}/pay", data={"token": token})

        assert paid.status_code == 303
        assert (await billing.balance(headers))["credits"] == 100
        assert replayed.status_code == 409
        assert (await billing.balance(headers))["credits"] == 100
        outcomes = await billing.sql("SELECT type, outcome FROM stripe_event")
        assert [tuple(r) for r in outcomes] == [("checkout.session.completed", "fulfilled")]


async def test_a_forged_form_post_pays_nothing(billing_stack):
    async with billing_stack(checkout_backend="simulated") as billing:
        _, headers = billing.sessions.sign_in()
        path, _ = await _open_page(billing, headers)
        forged = await billing.client.post(f"{path}/pay", data={"token": "guess"})
        empty = await billing.client.post(f"{path}/pay")
        assert forged.status_code == empty.status_code == 409
        assert (await billing.balance(headers))["credits"] == 0


async def test_reconciliation_covers_a_lost_simulated_webhook(billing_stack):
    # The webhook goes to a public URL where nothing listens: it is lost.
    async with billing_stack(checkout_backend="simulated", public_url="http://127.0.0.1:9") as billing:
        _, headers = billing.sessions.sign_in()
        path, token = await _open_page(billing, headers)
        assert (await billing.client.post(f"{path}/pay", data={"token": token})).status_code == 303
        assert (await billing.balance(headers))["credits"] == 0

        counts = await billing.sweep("stripe-reconciliation")

        assert counts["fulfilled"] == 1
        assert (await billing.balance(headers))["credits"] == 100
