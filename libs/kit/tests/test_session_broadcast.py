"""Ended sessions are forgotten by every API replica at once, on both buses.

Two "replicas" of a service each run the kit's runtime with a remote session verifier whose
cache lives an hour; identity (a stand-in serving the real introspection route) ends sessions
and publishes the events. Without the per-process broadcast, each replica would keep trusting
the cached session until its TTL.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from typing import Any

import httpx
import pytest
from aiflux_contracts import Envelope, Event, PolicyAccepted, SessionRevoked, UserDeleted
from aiflux_kit.auth import Principal, RemoteSessionVerifier, SessionCache, token_hash
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
        self.accepted: set[uuid.UUID] = set()
        self.app = FastAPI()
        self.read = asyncio.Event()  # an introspection has read its answer
        self.hold: asyncio.Event | None = None  # when set, answers wait for it before leaving

        @self.app.post("/internal/identity/sessions/introspect")
        async def introspect(body: dict[str, str]) -> Any:
            user_id = self.live.get(body["session_token"])
            self.read.set()
            if self.hold is not None:
                await self.hold.wait()
            if user_id is None:
                return Response(status_code=404)
            return {
                "user_id": str(user_id),
                "csrf_token_hash": token_hash("csrf"),
                "roles": [],
                "policy_accepted": user_id in self.accepted,
            }

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


async def test_an_answer_read_before_a_revocation_is_not_kept_after_it(replicas, make_broker):
    """The race the epoch closes: a replica asks identity, identity reads the session while it
    is still live, the revocation commits and its broadcast arrives, and only then does the
    answer come back. That answer may serve the request already in flight, never a later one."""
    identity, verifiers = replicas
    replica = verifiers[0]
    user_id = uuid.uuid4()
    token = identity.sign_in(user_id)
    identity.hold = asyncio.Event()
    identity.read.clear()
    in_flight = asyncio.create_task(replica.verify(token))
    await identity.read.wait()  # identity has read the session as live

    del identity.live[token]
    before = replica.cache.epoch
    await _publish(make_broker, SessionRevoked(user_id=user_id, session_id_hash=token_hash(token)))

    async def heard() -> bool:
        return replica.cache.epoch > before

    await eventually(heard)
    identity.hold.set()
    assert isinstance(await in_flight, Principal)  # the request that asked before the revocation
    assert await replica.verify(token) is None  # every request after it asks again


async def test_both_replicas_see_an_accepted_policy_at_once(replicas, make_broker):
    identity, verifiers = replicas
    user_id = uuid.uuid4()
    token = identity.sign_in(user_id)
    for verifier in verifiers:
        assert (await verifier.verify(token)).policy_accepted is False
    identity.accepted.add(user_id)

    await _publish(make_broker, PolicyAccepted(user_id=user_id, version="2026-12-01"))

    async def all_accepted() -> bool:
        return all([(await v.verify(token)).policy_accepted for v in verifiers])

    await eventually(all_accepted)


def test_a_cached_answer_never_outlives_its_own_deadline():
    cache = SessionCache(ttl=LONG_TTL_S)
    principal = Principal(uuid.uuid4(), "hash", token_hash("csrf"))
    cache.put("expiring", principal, cache.epoch, valid_for=0.0)  # the session ends now
    cache.put("live", principal, cache.epoch, valid_for=60.0)
    assert cache.get("expiring") == (False, None)
    assert cache.get("live") == (True, principal)
    stale_epoch = cache.epoch
    cache.forget(uuid.uuid4(), None)  # anything forgotten meanwhile: answers read before are dropped
    cache.put("late", principal, stale_epoch)
    assert cache.get("late") == (False, None)
    assert cache.get("live") == (True, principal)  # another user's forgetting leaves it alone


def test_the_session_cache_is_bounded():
    verifier = RemoteSessionVerifier(httpx.AsyncClient(), ttl=LONG_TTL_S, maxsize=2)
    for n in range(5):
        verifier.cache.put(f"session-{n}", None, verifier.cache.epoch)
    assert len(verifier.cache) == 2
