"""Reconciliation: a paid session whose webhook was lost is still fulfilled, once."""

from __future__ import annotations

from aiflux_billing.adapters.stripe_webhooks import event_payload


async def test_reconciliation_fulfils_a_paid_session_whose_webhook_was_lost(billing):
    user_id, headers = billing.sessions.sign_in()
    billing.fake.pay(await billing.checkout(headers, "pro"))  # paid; no webhook ever comes

    counts = await billing.sweep("stripe-reconciliation")

    assert counts["fulfilled"] == 1
    assert (await billing.balance(headers))["credits"] == 500
    assert len(await billing.published("billing.credits_purchased.v1", user_id)) == 1
    again = await billing.sweep("stripe-reconciliation")
    assert again["fulfilled"] == 0
    assert (await billing.balance(headers))["credits"] == 500


async def test_a_late_webhook_after_reconciliation_grants_nothing_more(billing):
    _, headers = billing.sessions.sign_in()
    session = billing.fake.pay(await billing.checkout(headers))
    await billing.sweep("stripe-reconciliation")

    late = await billing.webhook(event_payload("checkout.session.completed", session))

    assert late.json()["outcome"] == "already-fulfilled"
    assert (await billing.balance(headers))["credits"] == 100


async def test_reconciliation_results_are_shown_to_operators(billing):
    _, headers = billing.sessions.sign_in()
    sid = await billing.checkout(headers)
    billing.fake.pay(sid)
    _, admin = billing.sessions.sign_in(roles=frozenset({"admin"}))

    run = await billing.client.post("/v1/ops/billing/reconciliation/run", headers=admin)
    shown = await billing.client.get("/v1/ops/billing/reconciliation", headers=admin)

    assert run.json()["counts"]["fulfilled"] >= 1
    body = shown.json()
    assert body["last_run"]["counts"]["fulfilled"] >= 1
    assert sid in [p["session_id"] for p in body["items"]]
    assert all("user_id" not in p for p in body["items"])
    denied = await billing.client.get("/v1/ops/billing/reconciliation", headers=headers)
    assert denied.status_code == 403


async def test_stripe_outage_at_checkout_is_a_clear_503(billing):
    _, headers = billing.sessions.sign_in()
    billing.fake.fail_with = 503
    answer = await billing.client.post("/v1/billing/checkout", json={"plan_id": "starter"}, headers=headers)
    assert answer.status_code == 503
    assert answer.json()["type"] == "urn:aiflux:problem:payment-provider-unavailable"
    payments = (await billing.client.get("/v1/billing/payments", headers=headers)).json()
    assert payments["items"] == []


async def test_unknown_plan_is_a_clear_problem(billing):
    _, headers = billing.sessions.sign_in()
    answer = await billing.client.post("/v1/billing/checkout", json={"plan_id": "gold"}, headers=headers)
    assert (answer.status_code, answer.json()["type"]) == (422, "urn:aiflux:problem:unknown-plan")
    plans = (await billing.client.get("/v1/billing/plans")).json()["items"]
    assert [(p["id"], p["credits"], p["amount"]) for p in plans] == [
        ("starter", 100, 999),
        ("pro", 500, 3999),
        ("studio", 1500, 9999),
    ]
