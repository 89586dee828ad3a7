"""Fixtures of the generation tests: fake providers over HTTP and a one-service stack with
in-memory billing and storage (built by bootstrap) and test sessions instead of identity."""

from __future__ import annotations

import asyncio
import json
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiflux_kit.outbox import add_event
from aiflux_kit.testing import TestSessions

sys.path.insert(0, str(Path(__file__).parent))

from generation_doubles import ProviderDouble, serve_providers


@dataclass
class GenerationHarness:
    """A running generation service and what tests poke at."""

    stack: Any
    providers: ProviderDouble
    sessions: TestSessions
    billing: Any
    storage: Any

    @property
    def client(self) -> Any:
        return self.stack.client

    @property
    def container(self) -> Any:
        return self.stack.container("generation")

    def user(self, credits: int = 100) -> tuple[uuid.UUID, dict[str, str]]:
        """A signed-in user with ``credits``."""
        user_id, headers = self.sessions.sign_in()
        self.billing.balances[user_id] = credits
        return user_id, headers

    def admin(self) -> dict[str, str]:
        return self.sessions.sign_in(roles=frozenset({"admin"}))[1]

    async def generation(self, generation_id: Any, headers: dict[str, str]) -> dict[str, Any]:
        response = await self.client.get(f"/v1/generations/{generation_id}", headers=headers)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def finished(
        self, generation_id: Any, headers: dict[str, str], timeout: float = 30
    ) -> dict[str, Any]:
        """Poll the public route until the job completed or failed."""

        async def done() -> dict[str, Any] | None:
            body = await self.generation(generation_id, headers)
            return body if body["status"] in ("completed", "failed") else None

        return await eventually(done, timeout)

    async def events(self, routing_key: str) -> list[dict[str, Any]]:
        """Payloads of the events generation published (its outbox) under ``routing_key``."""
        from sqlalchemy import text

        async with self.container.database.transaction() as session:
            rows = (
                await session.execute(
                    text("SELECT body FROM outbox WHERE routing_key = :k ORDER BY id"), {"k": routing_key}
                )
            ).all()
        return [json.loads(r.body)["payload"] for r in rows]

    async def deliver(self, event: Any) -> None:
        """Publish ``event`` on the bus (through the outbox, as its producer would)."""
        async with self.container.database.transaction() as session:
            await add_event(session, event)


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    """Poll ``check`` until it returns something truthy, or fail at the deadline (generous, as
    the kit's: two test workers share a loaded 2-core machine; a passing check returns at once)."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.05)


def fast_settings(base_url: str) -> dict[str, Any]:
    """Short timings and the fake providers' URL for every provider."""
    return {
        "wavespeed_base_url": base_url,
        "gemini_base_url": base_url,
        "runpod_base_url": base_url,
        "atlascloud_base_url": base_url,
        "wavespeed_api_key": "ws-key",
        "gemini_api_key": "gemini-key",
        "runpod_api_key": "rp-key",
        "atlascloud_api_key": "atlas-key",
        "wavespeed_webhook_secret": "whsec_test-secret",
        "runpod_webhook_secret": "rp-secret",
        "offline": False,
        "poll_initial_s": 0.05,
        "poll_max_s": 0.2,
        "lease_s": 5.0,
        "worker_interval_s": 0.05,
        "cleanup_initial_s": 0.05,
        "cleanup_max_s": 0.2,
        "provider_timeout_s": 1.0,
        "local_delay_s": 0.2,
        "breaker_fail_max": 50,
        "breaker_reset_s": 0.5,
        "submit_rate_limit": "1000/minute",
        "stuck_sweep_interval_s": 3600,
    }


@pytest.fixture
async def harness_factory(stack_factory: Any) -> AsyncIterator[Any]:
    """``async with harness_factory(**setting_overrides) as h:``."""
    import contextlib

    @contextlib.asynccontextmanager
    async def make(**overrides: Any) -> AsyncIterator[GenerationHarness]:
        sessions = TestSessions()
        async with serve_providers() as providers:
            settings = {**fast_settings(providers.base_url), **overrides}
            async with stack_factory(
                services=["generation"],
                overrides={"generation": settings},
                platform_overrides={"session_verifier": sessions},
            ) as st:
                billing, storage = st.container("generation").use_in_memory_peers()
                yield GenerationHarness(st, providers, sessions, billing, storage)

    yield make


@pytest.fixture
async def harness(harness_factory: Any) -> AsyncIterator[GenerationHarness]:
    """The generation service with default fast settings."""
    async with harness_factory() as h:
        yield h
