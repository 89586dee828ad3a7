"""Identity answers "who owns this session" from a short in-process cache; an ended session is
never served after it ended: at once in the process that ended it (forgotten when the
transaction commits, before any event goes out), and in every other replica as soon as the
broadcast event reaches it (two replicas, the model of the kit's test_session_broadcast)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from aiflux_identity.handlers.sessions import DbSessionVerifier
from aiflux_identity.testing import DEFAULT_PASSWORD, register_and_login
from aiflux_kit import auth
from aiflux_kit.auth import Principal, SessionCache
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.runtime import Parts, Runtime
from aiflux_kit.service import Platform
from aiflux_kit.testing import eventually

LONG_TTL_S = 3600.0


@asynccontextmanager
async def other_replica(
    stack, pg_database: Callable[[str], str], tmp_path: Path
) -> AsyncIterator[DbSessionVerifier]:  # type: ignore[no-untyped-def]
    """A second identity API replica on the same database and bus, with its own cache (an hour
    long, so only the broadcast can clear it). Its cache is left out of this process's
    commit-time forgetting, as if it ran in another process."""
    replica = DbSessionVerifier(stack.container("identity"))
    auth._caches.discard(replica.cache)
    replica.cache = SessionCache(LONG_TTL_S)
    auth._caches.discard(replica.cache)
    platform = Platform(
        mode="embedded",
        broker=LocalBroker(pg_database("bus"), poll_interval=0.1),  # the stack's bus database
        limiter=RateLimiter.from_url(None),
        data_dir=tmp_path,
        session_verifier=replica,
    )
    runtime = Runtime(platform, [], Parts())
    await runtime.start()
    try:
        yield replica
    finally:
        await runtime.stop(5)


async def _after_broadcast(replica: DbSessionVerifier, epoch: int) -> None:
    async def heard() -> bool:
        return replica.cache.epoch > epoch

    await eventually(heard)


async def test_a_logout_is_refused_at_once_here_and_after_its_event_on_another_replica(
    identity_stack, pg_database, tmp_path
) -> None:
    async with identity_stack() as stack, other_replica(stack, pg_database, tmp_path) as replica:
        signed = await register_and_login(stack.client, stack.data_dir)
        token = signed.cookies["aiflux_session"]
        assert (await stack.client.get("/v1/account", cookies=signed.cookies)).status_code == 200
        assert isinstance(await replica.verify(token), Principal)  # both replicas cached it
        epoch = replica.cache.epoch

        logout = await stack.client.post("/v1/auth/logout", headers=signed.headers, cookies=signed.cookies)
        assert logout.status_code == 204, logout.text

        # Here: refused at once, though the cached answer had seconds to live.
        assert (await stack.client.get("/v1/account", cookies=signed.cookies)).status_code == 401
        # There: refused from the moment the SessionRevoked broadcast arrived.
        await _after_broadcast(replica, epoch)
        assert await replica.verify(token) is None


async def test_a_password_change_ends_the_other_sessions_at_once(
    identity_stack, pg_database, tmp_path
) -> None:
    async with identity_stack() as stack, other_replica(stack, pg_database, tmp_path) as replica:
        signed = await register_and_login(stack.client, stack.data_dir)
        kept = signed.cookies["aiflux_session"]
        second = await stack.client.post(
            "/v1/auth/login", json={"login": signed.username, "password": DEFAULT_PASSWORD}
        )
        ended = second.cookies["aiflux_session"]
        for token in (kept, ended):
            bearer = {"Authorization": f"Bearer {token}"}
            assert (await stack.client.get("/v1/account", headers=bearer)).status_code == 200
            assert isinstance(await replica.verify(token), Principal)
        epoch = replica.cache.epoch

        changed = await stack.client.post(
            "/v1/account/password",
            headers=signed.headers,
            cookies={"aiflux_session": kept},
            json={"current_password": DEFAULT_PASSWORD, "new_password": f"new-{uuid.uuid4().hex}"},
        )
        assert changed.status_code == 204, changed.text

        ended_bearer = {"Authorization": f"Bearer {ended}"}
        assert (await stack.client.get("/v1/account", headers=ended_bearer)).status_code == 401
        kept_bearer = {"Authorization": f"Bearer {kept}"}
        assert (await stack.client.get("/v1/account", headers=kept_bearer)).status_code == 200
        await _after_broadcast(replica, epoch)
        assert await replica.verify(ended) is None
        assert isinstance(await replica.verify(kept), Principal)
