"""Refunds take back only unspent credits; disputes freeze spending until resolved."""

from __future__ import annotations

import uuid

from aiflux_billing.adapters.stripe_webhooks import event_payload


async def _spend(billing, user_id, credits: int) -> None:
    generation_id = uuid.uuid4()
    assert (await billing.hold(user_id, generation_id, credits)).status_code == 201
    assert (await billing.settle(generation_id, "capture")).status_code == 200


def _charge(session, amount_refunded: int) -> dict:
    return {
        "id": f"ch_{uuid.uuid4().hex[:16]}",
        "object": "charge",
        "amount": session["amount_total"],
        "amount_refunded": amount_refunded,
        "currency": session["currency"],
        "payment_intent": session["payment_intent"],
        "refunded": amount_refunded >= session["amount_total"],
    }


async def test_refund_after_partial_spending_takes_back_only_unspent_credits(billing):
    user_id, headers = billing.sessions.sign_in()
    session = await billing.buy(headers)  # 100 credits for 9.99
    await _spend(billing, user_id, 70)

    answer = await billing.webhook(event_payload("charge.refunded", _charge(session, 999)))

    assert answer.json()["outcome"] == "refunded"
    assert (await billing.balance(headers))["credits"] == 0
    [refund] = await billing.published("billing.credits_refunded.v1", user_id)
    assert (refund["credits_reversed"], refund["unrecovered"]) == (30, 70)
    payments = (await billing.client.get("/v1/billing/payments", headers=headers)).json()
    assert payments["items"][0]["status"] == "refunded"
    ledger = (await billing.client.get("/v1/billing/ledger", headers=headers)).json()["items"]
    assert ledger[0]["kind"] == "refund" and ledger[0]["credits"] == -30
    assert "70 credits already spent" in ledger[0]["note"]


async def test_partial_refunds_take_back_in_proportion_and_never_twice(billing):
    user_id, headers = billing.sessions.sign_in()
    session = await billing.buy(headers, "pro")  # 500 credits for 39.99
    await _spend(billing, user_id, 100)

    half = event_payload("charge.refunded", _charge(session, 2000))
    await billing.webhook(half)
    await billing.webhook(half)  # redelivered
    assert (await billing.balance(headers))["credits"] == 400 - 250

    await billing.webhook(event_payload("charge.refunded", _charge(session, 3999)))
    assert (await billing.balance(headers))["credits"] == 0
    ops = await billing.sql(
        "SELECT credits_reversed, credits_unrecovered, status FROM payment WHERE stripe_session_id = :s",
        s=session["id"],
    )
    assert tuple(ops[0]) == (400, 100, "refunded")


async def test_a_dispute_freezes_spending_until_it_is_won(billing):
    user_id, headers = billing.sessions.sign_in()
    session = await billing.buy(headers)
    dispute = {
        "id": f"dp_{uuid.uuid4().hex[:16]}",
        "object": "dispute",
        "amount": 999,
        "currency": "eur",
        "payment_intent": session["payment_intent"],
        "status": "needs_response",
    }

    await billing.webhook(event_payload("charge.dispute.created", dispute))
    frozen = await billing.hold(user_id, uuid.uuid4(), 1)
    assert (frozen.status_code, frozen.json()["type"]) == (403, "urn:aiflux:problem:spending-frozen")
    assert (await billing.balance(headers))["spending_frozen"] is True

    await billing.webhook(event_payload("charge.dispute.closed", {**dispute, "status": "won"}))
    assert (await billing.hold(user_id, uuid.uuid4(), 1)).status_code == 201
    assert (await billing.balance(headers))["credits"] == 99


async def test_a_lost_dispute_takes_back_the_unspent_credits(billing):
    user_id, headers = billing.sessions.sign_in()
    session = await billing.buy(headers)
    await _spend(billing, user_id, 40)
    dispute = {
        "id": f"dp_{uuid.uuid4().hex[:16]}",
        "object": "dispute",
        "amount": 999,
        "currency": "eur",
        "payment_intent": session["payment_intent"],
        "status": "needs_response",
    }
    await billing.webhook(event_payload("charge.dispute.created", dispute))
    await billing.webhook(event_payload("charge.dispute.closed", {**dispute, "status": "lost"}))
    assert await billing.balance(headers) == {"credits": 0, "held": 0, "spending_frozen": False}
    ledger = (await billing.client.get("/v1/billing/ledger", headers=headers)).json()["items"]
    assert (ledger[0]["kind"], ledger[0]["credits"]) == ("reversal", -60)
