"""Stripe webhooks: verified signatures, each event and each session granted once."""

from __future__ import annotations

import asyncio
import time

from aiflux_billing.adapters.stripe_webhooks import event_payload, signature_header
from aiflux_billing.testing import WEBHOOK_SECRET


async def test_the_same_signed_event_twice_grants_once(billing):
    user_id, headers = billing.sessions.sign_in()
    session = billing.fake.pay(await billing.checkout(headers))
    payload = event_payload("checkout.session.completed", session)

    first = await billing.webhook(payload)
    second = await billing.webhook(payload)

    assert (first.status_code, first.json()["outcome"]) == (200, "fulfilled")
    assert (second.status_code, second.json()["outcome"]) == (200, "duplicate")
    assert (await billing.balance(headers))["credits"] == 100
    assert len(await billing.published("billing.credits_purchased.v1", user_id)) == 1


async def test_ten_concurrent_deliveries_grant_once(billing):
    _, headers = billing.sessions.sign_in()
    session = billing.fake.pay(await billing.checkout(headers, "pro"))
    payload = event_payload("checkout.session.completed", session)

    answers = await asyncio.gather(*(billing.webhook(payload) for _ in range(10)))

    assert all(a.status_code == 200 for a in answers)
    assert sorted(a.json()["outcome"] for a in answers) == ["duplicate"] * 9 + ["fulfilled"]
    assert (await billing.balance(headers))["credits"] == 500
    ledger = (await billing.client.get("/v1/billing/ledger", headers=headers)).json()["items"]
    assert [(e["kind"], e["credits"]) for e in ledger] == [("purchase", 500)]


async def test_different_events_for_one_session_grant_once(billing):
    _, headers = billing.sessions.sign_in()
    session = billing.fake.pay(await billing.checkout(headers))
    await billing.webhook(event_payload("checkout.session.completed", session))
    again = await billing.webhook(event_payload("checkout.session.async_payment_succeeded", session))
    assert again.json()["outcome"] == "already-fulfilled"
    assert (await billing.balance(headers))["credits"] == 100


async def test_delayed_payment_grants_when_it_succeeds_and_not_when_it_fails(billing):
    _, headers = billing.sessions.sign_in()
    good = billing.fake.pay(await billing.checkout(headers), delayed=True)
    bad = billing.fake.pay(await billing.checkout(headers), delayed=True)
    for session in (good, bad):
        done = await billing.webhook(event_payload("checkout.session.completed", session))
        assert done.json()["outcome"] == "processing"
    assert (await billing.balance(headers))["credits"] == 0

    await billing.webhook(
        event_payload("checkout.session.async_payment_succeeded", billing.fake.settle_delayed(good["id"]))
    )
    await billing.webhook(event_payload("checkout.session.async_payment_failed", bad))

    assert (await billing.balance(headers))["credits"] == 100
    payments = (await billing.client.get("/v1/billing/payments", headers=headers)).json()
    assert sorted(p["status"] for p in payments["items"]) == ["failed", "paid"]


async def test_bad_signature_is_a_400_and_grants_nothing(billing):
    _, headers = billing.sessions.sign_in()
    session = billing.fake.pay(await billing.checkout(headers))
    payload = event_payload("checkout.session.completed", session)

    wrong_secret = await billing.webhook(payload, signature_header(payload, "whsec_other"))
    signed = signature_header(payload, WEBHOOK_SECRET)
    wrong_scheme = await billing.webhook(payload, signed.replace(",v1=", ",v0="))
    garbage = await billing.webhook(payload, "nonsense")
    unsigned = await billing.client.post("/v1/billing/stripe/webhook", content=payload)

    for answer in (wrong_secret, wrong_scheme, garbage, unsigned):
        assert answer.status_code == 400
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert answer.json()["type"] == "urn:aiflux:problem:invalid-signature"
    assert (await billing.balance(headers))["credits"] == 0


async def test_stale_timestamp_is_a_400_even_when_correctly_signed(billing):
    _, headers = billing.sessions.sign_in()
    session = billing.fake.pay(await billing.checkout(headers))
    payload = event_payload("checkout.session.completed", session)

    stale = await billing.webhook(
        payload, signature_header(payload, WEBHOOK_SECRET, timestamp=int(time.time()) - 3600)
    )

    assert stale.status_code == 400
    assert stale.json()["type"] == "urn:aiflux:problem:invalid-signature"
    assert (await billing.balance(headers))["credits"] == 0
    fresh = await billing.webhook(payload)  # the same event, delivered properly, still counts
    assert fresh.json()["outcome"] == "fulfilled"


async def test_signed_but_malformed_event_is_a_400(billing):
    for body in ("not json", '{"id": "evt_1", "type": "x"}'):
        answer = await billing.webhook(body)
        assert answer.status_code == 400
        assert answer.json()["type"] == "urn:aiflux:problem:invalid-payload"


async def test_other_event_types_are_acknowledged_and_ignored(billing):
    answer = await billing.webhook(event_payload("customer.created", {"id": "cus_1"}))
    assert (answer.status_code, answer.json()["outcome"]) == (200, "ignored")


async def test_expired_session_is_recorded(billing):
    _, headers = billing.sessions.sign_in()
    sid = await billing.checkout(headers)
    session = dict(billing.fake.sessions[sid], status="expired")
    await billing.webhook(event_payload("checkout.session.expired", session))
    payments = (await billing.client.get("/v1/billing/payments", headers=headers)).json()
    assert [p["status"] for p in payments["items"]] == ["expired"]
