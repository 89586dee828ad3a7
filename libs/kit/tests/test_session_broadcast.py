"""Ended sessions are forgotten by every API replica at once, on both buses.

Two "replicas" of a service each run the kit's runtime with a remote session verifier whose
cache lives an hour; identity (a stand-in serving the real introspection route) ends sessions
and publishes the events. Without the per-process broadcast, each replica would keep trusting
the cached session until its TTL.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from aiflux_contracts import Envelope, Event, SessionRevoked, UserDeleted
from aiflux_kit.auth import Principal, RemoteSessionVerifier, token_hash
from aiflux_kit.bus import Broker
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.bus.rabbitmq import RabbitBroker
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform
from aiflux_kit.testing import eventually
from fastapi import FastAPI, Response

from .conftest import _delete_queues

pytestmark = [pytest.mark.needs_postgres, pytest.mark.needs_rabbitmq]

LONG_TTL_S = 3600.0


class Identity:
    """Identity's side: live sessions, served on the introspection route."""

    def __init__(self) -> None:
        self.live: dict[str, uuid.UUID] = {}
        self.app = FastAPI()

        @self.app.post("/internal/identity/sessions/introspect")
        async def introspect(body: dict[str, str]) -> Any:
            user_id = self.live.get(body["session_token"])
            if user_id is None:
                return Response(status_code=404)
            return {"user_id": str(user_id), "csrf_token_hash": token_hash("csrf"), "roles": []}

    def sign_in(self, user_id: uuid.UUID) -> str:
        token = uuid.uuid4().hex
        self.live[token] = user_id
        return token


@pytest.fixture(params=["local", "rabbitmq"])
def make_broker(request: pytest.FixtureRequest, queue_prefix: str) -> Callable[[], Broker]:
    """Connections of separate processes to one bus."""
    if request.param == "local":
        url = request.getfixturevalue("pg_database")("bus")
        return lambda: LocalBroker(url, poll_interval=0.1)
    amqp_url: str = request.getfixturevalue("amqp_url")
    return lambda: RabbitBroker(amqp_url, exchange=f"{queue_prefix}.events")


@pytest.fixture
async def replicas(
    make_broker: Callable[[], Broker], request: pytest.FixtureRequest, queue_prefix: str, tmp_path: Any
) -> AsyncIterator[tuple[Identity, list[Any]]]:
    """Identity and two started API replicas, each with its own bus connection and cache."""
    identity = Identity()
    async with AsyncExitStack() as stack:
        verifiers = []
        for _ in range(2):
            client = httpx.AsyncClient(
                transport=httpx.ASGITransport(app=identity.app), base_url="http://identity"
            )
            stack.push_async_callback(client.aclose)
            verifier = RemoteSessionVerifier(client, ttl=LONG_TTL_S)
            platform = Platform(
                mode="distributed",
                broker=make_broker(),
                limiter=RateLimiter.from_url(None),
                data_dir=tmp_path,
                session_verifier=verifier,
            )
            runtime = Runtime(platform, [], Parts())
            await runtime.start()
            stack.push_async_callback(runtime.stop, 5)
            verifiers.append(verifier)
        yield identity, verifiers
    if "rabbitmq" in request.node.callspec.id:
        await _delete_queues(request.getfixturevalue("amqp_url"), queue_prefix)


async def _publish(make_broker: Callable[[], Broker], event: Event) -> None:
    """Publish as identity's relay would, from a process of its own."""
    broker = make_broker()
    await broker.connect()
    try:
        envelope = Envelope.wrap(event)
        await broker.publish(
            envelope.routing_key,
            envelope.model_dump_json().encode(),
            message_id=str(envelope.event_id),
            headers={},
        )
    finally:
        await broker.close(drain_timeout=5)


async def _all_refuse(verifiers: list[Any], token: str) -> bool:
    return all([await v.verify(token) is None for v in verifiers])


async def test_both_replicas_forget_a_revoked_session_before_its_ttl(replicas, make_broker):
    identity, verifiers = replicas
    user_id = uuid.uuid4()
    revoked, kept = identity.sign_in(user_id), identity.sign_in(user_id)
    for verifier in verifiers:
        assert isinstance(await verifier.verify(revoked), Principal)
        assert isinstance(await verifier.verify(kept), Principal)
    del identity.live[revoked]
    # Cached for an hour: without the broadcast both replicas would still let it in.
    assert all([await v.verify(revoked) is not None for v in verifiers])

    await _publish(make_broker, SessionRevoked(user_id=user_id, session_id_hash=token_hash(revoked)))

    await eventually(lambda: _all_refuse(verifiers, revoked))
    for verifier in verifiers:  # only that session ended
        assert isinstance(await verifier.verify(kept), Principal)


async def test_both_replicas_forget_every_session_of_a_deleted_user(replicas, make_broker):
    identity, verifiers = replicas
    user_id, other = uuid.uuid4(), uuid.uuid4()
    tokens = [identity.sign_in(user_id), identity.sign_in(user_id)]
    bystander = identity.sign_in(other)
    for verifier in verifiers:
        for token in [*tokens, bystander]:
            assert await verifier.verify(token) is not None
    for token in tokens:
        del identity.live[token]

    await _publish(make_broker, UserDeleted(user_id=user_id, request_id=uuid.uuid4()))

    for token in tokens:
        await eventually(lambda token=token: _all_refuse(verifiers, token))
    for verifier in verifiers:
        assert (await verifier.verify(bystander)) is not None


def test_the_session_cache_is_bounded():
    verifier = RemoteSessionVerifier(httpx.AsyncClient(), ttl=LONG_TTL_S, maxsize=2)
    for n in range(5):
        verifier._cache[f"session-{n}"] = None
    assert len(verifier._cache) == 2
