"""End to end with identity: a real user buys credits, then deletes the account."""

from __future__ import annotations

from aiflux_billing.adapters.stripe_webhooks import event_payload
from aiflux_billing.testing import WEBHOOK_SECRET, eventually
from aiflux_identity.testing import register_and_login


async def test_a_registered_user_buys_credits_and_erasure_unlinks_the_payment(
    stack_factory, fake_stripe, billing_driver
):
    overrides = {
        "billing": {
            "checkout_backend": "stripe",
            "stripe_api_base": fake_stripe.base_url,
            "stripe_api_key": "sk_test_local",
            "stripe_webhook_secret": WEBHOOK_SECRET,
        }
    }
    async with stack_factory(services=["identity", "billing"], overrides=overrides) as stack:
        billing = billing_driver(stack)
        user = await register_and_login(stack.client, stack.data_dir)
        session_id = await billing.checkout(user.headers)
        paid = fake_stripe.pay(session_id)
        await billing.webhook(event_payload("checkout.session.completed", paid))
        assert (await billing.balance({}))["credits"] == 100  # the session cookie

        deleted = await stack.client.request(
            "DELETE", "/v1/account", headers=user.headers, json={"password": user.password}
        )
        assert deleted.status_code == 202, deleted.text

        async def receipt():
            return await billing.published("billing.erasure_completed.v1", user.user_id)

        [done] = await eventually(receipt, within=20)
        assert done["retained"][0]["category"] == "payments"
        rows = await billing.sql(
            "SELECT user_id, plan_id, amount FROM payment WHERE stripe_session_id = :s", s=session_id
        )
        assert [tuple(r) for r in rows] == [(None, "starter", 999)]
        gone = await stack.client.get("/v1/billing/balance")
        assert gone.status_code == 401
