"""Billing test fixtures: the billing service on a fresh stack, Stripe's API served locally."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from aiflux_billing.adapters.stripe_webhooks import event_payload, signature_header
from aiflux_billing.testing import WEBHOOK_SECRET, FakeStripe, serve
from aiflux_kit.auth import mint_service_token
from aiflux_kit.testing import TestSessions
from aiflux_runner.testing import run_stack
from sqlalchemy import text


class Billing:
    """Drives a running billing service the way its peers do."""

    def __init__(self, stack: Any, fake: FakeStripe, sessions: TestSessions) -> None:
        self.stack, self.fake, self.sessions = stack, fake, sessions
        self.client = stack.client
        self.container = stack.container("billing")
        key = stack.unit("billing").settings.trusted_callers["generation"].get_secret_value()
        self._generation_key = key

    def generation_headers(self) -> dict[str, str]:
        """Headers of a call signed as the generation service."""
        token = mint_service_token("generation", "billing", self._generation_key)
        return {"Authorization": f"Bearer {token}"}

    async def webhook(self, payload: str, signature: str | None = None) -> Any:
        """POST a Stripe event to the webhook route, signed unless told otherwise."""
        return await self.client.post(
            "/v1/billing/stripe/webhook",
            content=payload,
            headers={
                "Stripe-Signature": signature or signature_header(payload, WEBHOOK_SECRET),
                "Content-Type": "application/json",
            },
        )

    async def checkout(self, headers: dict[str, str], plan: str = "starter") -> str:
        """Start a checkout; returns the Stripe session id."""
        response = await self.client.post("/v1/billing/checkout", json={"plan_id": plan}, headers=headers)
        assert response.status_code == 201, response.text
        return str(response.json()["session_id"])

    async def buy(self, headers: dict[str, str], plan: str = "starter") -> dict[str, Any]:
        """Checkout, pay at Stripe, deliver the webhook; returns the paid session."""
        session = self.fake.pay(await self.checkout(headers, plan))
        response = await self.webhook(event_payload("checkout.session.completed", session))
        assert response.json()["outcome"] == "fulfilled", response.text
        return session

    async def balance(self, headers: dict[str, str]) -> dict[str, Any]:
        """GET /v1/billing/balance."""
        response = await self.client.get("/v1/billing/balance", headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def hold(self, user_id: uuid.UUID, generation_id: uuid.UUID, credits: int) -> Any:
        """POST /internal/billing/holds as generation."""
        return await self.client.post(
            "/internal/billing/holds",
            headers=self.generation_headers(),
            json={"user_id": str(user_id), "generation_id": str(generation_id), "credits": credits},
        )

    async def settle(self, generation_id: uuid.UUID, action: str, **body: Any) -> Any:
        """Capture or void a hold as generation."""
        return await self.client.post(
            f"/internal/billing/holds/{generation_id}/{action}",
            headers=self.generation_headers(),
            json=body or None,
        )

    async def sql(self, query: str, **params: Any) -> list[Any]:
        """Rows of a query on billing's database."""
        async with self.container.database.transaction() as session:
            return list((await session.execute(text(query), params)).all())

    async def published(self, routing_key: str, user_id: uuid.UUID) -> list[dict[str, Any]]:
        """Payloads of the events about ``user_id`` billing wrote to its outbox."""
        rows = await self.sql("SELECT body FROM outbox WHERE routing_key = :k ORDER BY id", k=routing_key)
        payloads = [json.loads(r.body)["payload"] for r in rows]
        return [p for p in payloads if p.get("user_id") == str(user_id)]

    async def sweep(self, name: str) -> dict[str, int]:
        """Run one billing sweep now."""
        result = await self.stack.runtime.run_sweep("billing", name)
        assert result.error is None, result.error
        return dict(result.counts)


@pytest.fixture(scope="module")
async def fake_stripe() -> Any:
    """Stripe's API on a local port."""
    fake = FakeStripe()
    async with serve(fake.app) as url:
        fake.base_url = url
        yield fake


@pytest.fixture(scope="module")
def sessions() -> TestSessions:
    """Signed-in test users (no identity service in these stacks)."""
    return TestSessions()


def stripe_overrides(fake: FakeStripe, **extra: Any) -> dict[str, dict[str, Any]]:
    """Billing settings pointing the stripe SDK at ``fake``."""
    return {
        "billing": {
            "checkout_backend": "stripe",
            "stripe_api_base": fake.base_url,
            "stripe_api_key": "sk_test_local",
            "stripe_webhook_secret": WEBHOOK_SECRET,
            **extra,
        }
    }


@pytest.fixture(scope="module")
async def billing(
    module_databases: Any,
    fake_stripe: FakeStripe,
    sessions: TestSessions,
    tmp_path_factory: pytest.TempPathFactory,
) -> Any:
    """The billing service alone, talking to the local Stripe; one per test module."""
    async with run_stack(
        module_databases,
        tmp_path_factory.mktemp("data"),
        services=["billing"],
        overrides=stripe_overrides(fake_stripe),
        platform_overrides={"session_verifier": sessions},
    ) as stack:
        yield Billing(stack, fake_stripe, sessions)


@pytest.fixture
def billing_stack(stack_factory: Any, fake_stripe: FakeStripe, sessions: TestSessions) -> Any:
    """``async with billing_stack(services=(...), **billing_settings) as billing:``."""

    @contextlib.asynccontextmanager
    async def make(services: tuple[str, ...] = ("billing",), **settings: Any) -> AsyncIterator[Billing]:
        async with stack_factory(
            services=list(services),
            overrides=stripe_overrides(fake_stripe, **settings),
            platform_overrides={"session_verifier": sessions},
        ) as stack:
            yield Billing(stack, fake_stripe, sessions)

    return make


@pytest.fixture
def billing_driver(fake_stripe: FakeStripe, sessions: TestSessions) -> Callable[[Any], Billing]:
    """Wraps any running stack that includes billing in the test driver."""
    return lambda stack: Billing(stack, fake_stripe, sessions)


@pytest.fixture(autouse=True)
def _stripe_up(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every test starts with Stripe answering."""
    yield
    if "fake_stripe" in request.fixturenames:
        request.getfixturevalue("fake_stripe").fail_with = None
