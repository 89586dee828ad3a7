"""Inputs schemathesis found answered with a 500, each now a clear problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiflux_kit.tcp_proxy import TcpProxy
from aiflux_kit.testing import TestSessions
from aiflux_runner.testing import run_stack

BIGINT_MAX = 2**63 - 1


def _invalid(response: Any, parameter: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["type"] == "urn:aiflux:problem:validation-error"
    assert ["query", parameter] in [error["loc"] for error in body["errors"]]


async def test_cursors_beyond_bigint_are_invalid_parameters(billing: Any) -> None:
    # GET /v1/billing/ledger?cursor=9445150564090002129551360 was a 500 (bigint overflow)
    _, headers = billing.sessions.sign_in()
    admin = billing.sessions.sign_in(roles=frozenset({"admin"}))[1]
    routes = [
        ("/v1/billing/ledger", headers),
        ("/v1/billing/payments", headers),
        ("/v1/ops/billing/payments", admin),
        ("/v1/ops/billing/refunds", admin),
        ("/v1/ops/billing/reconciliation", admin),
    ]
    for path, who in routes:
        _invalid(
            await billing.client.get(path, headers=who, params={"cursor": "9445150564090002129551360"}),
            "cursor",
        )
        _invalid(await billing.client.get(path, headers=who, params={"cursor": BIGINT_MAX + 1}), "cursor")
        at_end = await billing.client.get(path, headers=who, params={"cursor": BIGINT_MAX})
        assert at_end.status_code == 200, at_end.text
        assert at_end.json()["next_cursor"] is None


async def test_non_ascii_stripe_signatures_are_invalid_signatures(billing: Any) -> None:
    # Stripe-Signature: t=1,v1=é made the SDK's compare_digest raise: an unauthenticated 500.
    payload = '{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {}}}'
    for header in ["t=1,v1=é", "t=²,v1=00", "t=1,v1=00 é"]:
        response = await billing.client.post(
            "/v1/billing/stripe/webhook",
            content=payload,
            headers={"Stripe-Signature": header.encode(), "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:aiflux:problem:invalid-signature"


async def test_checkout_while_the_database_is_down_is_a_503_then_works_again(
    pg_database: Any, tmp_path: Path
) -> None:
    # POST /v1/billing/checkout with billing's PostgreSQL unreachable was a 500.
    proxy = TcpProxy("127.0.0.1", 5432)
    await proxy.start()

    def billing_via_proxy(name: str) -> str:
        url = pg_database(name)
        return url.replace(":5432/", f":{proxy.port}/") if name == "billing" else url

    sessions = TestSessions()
    async with run_stack(
        billing_via_proxy,
        tmp_path,
        services=["billing"],
        overrides={"billing": {"checkout_backend": "simulated"}},
        platform_overrides={"session_verifier": sessions},
    ) as stack:
        _, headers = sessions.sign_in()
        await proxy.cut()
        try:
            down = await stack.client.post(
                "/v1/billing/checkout", json={"plan_id": "starter"}, headers=headers
            )
            balance = await stack.client.get("/v1/billing/balance", headers=headers)
        finally:
            await proxy.restore()
        for response in (down, balance):
            assert response.status_code == 503, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["type"] == "urn:aiflux:problem:service-unavailable"
            assert int(response.headers["retry-after"]) > 0
        again = await stack.client.post("/v1/billing/checkout", json={"plan_id": "starter"}, headers=headers)
        assert again.status_code == 201, again.text
