"""Identity test helpers: a stack with fast bcrypt."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

FAST = {"bcrypt_rounds": 4}


@pytest.fixture
def identity_stack(stack_factory):  # type: ignore[no-untyped-def]
    """``async with identity_stack(**identity_overrides) as stack`` (identity only)."""

    def make(services: tuple[str, ...] = ("identity",), platform_overrides: Any = None, **overrides: Any):  # type: ignore[no-untyped-def]
        return stack_factory(
            services=list(services),
            overrides={"identity": {**FAST, **overrides}},
            platform_overrides=platform_overrides,
        )

    return make


class Inbox:
    """Messages the server accepted."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(
            email.message_from_bytes(  # type: ignore[arg-type]
                envelope.original_content, policy=email.policy.default
            )
        )
        return "250 OK"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if str(m["To"]).lower() == address.lower()]


@pytest.fixture
def smtp_inbox() -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server (aiosmtpd) on a free loopback port: (its inbox, its port)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


async def publish(stack: Any, event: Any) -> None:
    """Put ``event`` on the stack's bus, as its producer's outbox relay would."""
    from aiflux_contracts import Envelope

    envelope = Envelope.wrap(event)
    await stack.runtime.platform.broker.publish(
        envelope.routing_key,
        envelope.model_dump_json().encode(),
        message_id=str(envelope.event_id),
        headers={},
    )


async def eventually(check: Any, within_s: float = 10.0) -> Any:
    """Poll the async ``check`` until it returns something truthy, or fail at the deadline."""
    import asyncio
    import time

    deadline = time.monotonic() + within_s
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError("condition not met before the deadline")
        await asyncio.sleep(0.1)


async def record_outbox(stack: Any) -> None:
    """Copy every row identity adds to its outbox into ``test_published``: an erasure forgets
    the published rows that name the user, but tests still read what was sent."""
    from sqlalchemy import text

    statements = (
        "CREATE TABLE test_published (id bigserial PRIMARY KEY, routing_key text NOT NULL,"
        " body text NOT NULL)",
        "CREATE FUNCTION test_record_outbox() RETURNS trigger LANGUAGE plpgsql AS $$"
        " BEGIN INSERT INTO test_published (routing_key, body)"
        " VALUES (NEW.routing_key, NEW.body); RETURN NEW; END $$",
        "CREATE TRIGGER test_record_outbox AFTER INSERT ON outbox"
        " FOR EACH ROW EXECUTE FUNCTION test_record_outbox()",
    )
    async with stack.unit("identity").database.transaction() as session:
        for statement in statements:
            await session.execute(text(statement))


async def published(stack: Any, routing_key: str) -> list[dict[str, Any]]:
    """Payloads identity published with ``routing_key`` since :func:`record_outbox`."""
    import json

    from sqlalchemy import text

    async with stack.unit("identity").database.transaction() as session:
        bodies = (
            await session.execute(
                text("SELECT body FROM test_published WHERE routing_key = :k ORDER BY id"), {"k": routing_key}
            )
        ).scalars()
        return [json.loads(b)["payload"] for b in bodies]


@pytest.fixture
def helpers() -> Any:
    """``publish``, ``eventually``, ``record_outbox`` and ``published`` for tests (conftest is
    not importable by name)."""
    from types import SimpleNamespace

    return SimpleNamespace(
        publish=publish, eventually=eventually, record_outbox=record_outbox, published=published
    )
