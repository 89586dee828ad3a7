"""Fixtures for privacy tests: the privacy service alone, with test sessions instead of identity.

Events from the other services are published to the stack's real (PostgreSQL-backed) bus;
what privacy publishes is read from its outbox, where it waits for consumers that are not in
this stack.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from aiflux_contracts import Envelope, Event
from aiflux_kit.bus import Delivery, QueueSpec
from aiflux_kit.testing import TestSessions, eventually
from sqlalchemy import text


class PrivacyHarness:
    """The running privacy stack plus helpers to feed it events and read what it published."""

    def __init__(self, stack: Any, sessions: TestSessions) -> None:
        self.stack = stack
        self.sessions = sessions
        self.client = stack.client

    def user(self, user_id: uuid.UUID | None = None) -> tuple[uuid.UUID, dict[str, str]]:
        """A signed-in end user."""
        return self.sessions.sign_in(user_id)

    def admin(self) -> dict[str, str]:
        """Headers of a signed-in operator."""
        return self.sessions.sign_in(roles=frozenset({"admin"}))[1]

    async def publish(self, event: Event) -> None:
        """Deliver ``event`` as its producer would."""
        envelope = Envelope.wrap(event)
        await self.stack.runtime.platform.broker.publish(
            envelope.routing_key,
            envelope.model_dump_json().encode(),
            message_id=str(envelope.event_id),
            headers={},
        )

    async def stand_in_for_peers(self) -> None:
        """Accept every event the absent services would consume, as they would: privacy's
        outbox then empties as in a full stack (erasure verification counts unsent rows)."""

        async def accept(_: Delivery) -> None:
            return None

        await self.stack.runtime.platform.broker.consume(QueueSpec("test.peers", ("#",)), accept)

    async def record_outbox(self) -> None:
        """Copy every row privacy adds to its outbox into ``test_published``: an erasure
        forgets the published rows that name the user, but tests still read what was sent."""
        await self.sql(
            "CREATE TABLE test_published (id bigserial PRIMARY KEY,"
            " routing_key text NOT NULL, body text NOT NULL)"
        )
        await self.sql(
            "CREATE FUNCTION test_record_outbox() RETURNS trigger LANGUAGE plpgsql AS $$"
            " BEGIN INSERT INTO test_published (routing_key, body)"
            " VALUES (NEW.routing_key, NEW.body); RETURN NEW; END $$"
        )
        await self.sql(
            "CREATE TRIGGER test_record_outbox AFTER INSERT ON outbox"
            " FOR EACH ROW EXECUTE FUNCTION test_record_outbox()"
        )

    async def published(self, event_type: type[Event]) -> list[dict[str, Any]]:
        """Payloads of every ``event_type`` privacy wrote to its outbox, oldest first."""
        async with self.stack.unit("privacy").database.transaction() as session:
            bodies = (
                await session.execute(
                    text("SELECT body FROM test_published WHERE routing_key = :k ORDER BY id"),
                    {"k": event_type.routing_key()},
                )
            ).scalars()
            return [json.loads(b)["payload"] for b in bodies]

    async def sql(self, statement: str, **params: Any) -> list[Any]:
        """Run SQL on the privacy database (to look, or to age a row)."""
        async with self.stack.unit("privacy").database.transaction() as session:
            result = await session.execute(text(statement), params)
            return list(result.all()) if result.returns_rows else []


@pytest.fixture
def wait():
    """``await wait(check)`` polls an async check until it is truthy."""
    return eventually


@pytest.fixture
async def privacy(stack_factory):
    """The privacy service alone, with fast sweeps and no stall grace."""
    sessions = TestSessions()
    overrides = {
        "privacy": {"stall_after_s": 0.0, "redrive_interval_s": 3600, "deadline_sweep_interval_s": 3600}
    }
    async with stack_factory(
        services=["privacy"], overrides=overrides, platform_overrides={"session_verifier": sessions}
    ) as stack:
        harness = PrivacyHarness(stack, sessions)
        await harness.record_outbox()
        await harness.stand_in_for_peers()
        yield harness
