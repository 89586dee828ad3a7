"""Rate limits shared through Redis, retention sweeps, admin-only ops with an audit trail."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aiflux_identity.adapters.orm import security_log
from aiflux_identity.commands import set_admin
from aiflux_identity.settings import IdentitySettings
from aiflux_identity.testing import register_and_login
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.testing import eventually
from sqlalchemy import func, insert, select


async def test_login_limit_holds_across_two_instances_sharing_redis(identity_stack, redis_url) -> None:
    limits = {"limit_login_account": "3/minute", "limit_login_ip": "1000/minute"}
    login = {"login": f"victim_{uuid.uuid4().hex[:8]}", "password": "guessing password"}
    # Two replicas of identity (same database, as in production), each with its own limiter
    # object on the shared Redis. The kit's stack builder cannot take a limiter override yet
    # (Platform gets "limiter" twice), so the shared one is put in place after start.
    async with identity_stack(**limits) as one, identity_stack(**limits) as two:
        one.runtime.platform.limiter = RateLimiter.from_url(redis_url)
        two.runtime.platform.limiter = RateLimiter.from_url(redis_url)
        assert one.runtime.platform is not two.runtime.platform
        answers = []
        for client in (one.client, two.client, one.client, two.client, one.client):
            answers.append(await client.post("/v1/auth/login", json=login))
        assert [r.status_code for r in answers] == [401, 401, 401, 429, 429]
        assert int(answers[3].headers["Retry-After"]) >= 1
        assert answers[3].json()["type"] == "urn:aiflux:problem:rate-limited"


async def test_security_log_rows_older_than_twelve_months_are_swept(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        database = stack.unit("identity").database
        now = datetime.now(UTC)
        async with database.transaction() as session:
            for days in (400, 366, 300):
                await session.execute(
                    insert(security_log).values(
                        user_id=signed.user_id,
                        event="login_succeeded",
                        ip="192.0.2.1",
                        created_at=now - timedelta(days=days),
                    )
                )
        result = await stack.runtime.run_sweep("identity", "security-log-retention")
        assert result.counts == {"removed": 2}
        async with database.transaction() as session:
            oldest = (await session.execute(select(func.min(security_log.c.created_at)))).scalar()
            events = (
                (
                    await session.execute(
                        select(security_log.c.event).where(security_log.c.user_id == signed.user_id)
                    )
                )
                .scalars()
                .all()
            )
        assert oldest > now - timedelta(days=365)
        assert {"registered", "email_verified", "login_succeeded"} <= set(events)


async def test_ops_routes_need_the_admin_role_and_are_audited(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        refused = await stack.client.get("/v1/ops/identity/policy-notices")
        assert refused.status_code == 403
        assert set_admin(stack.unit("identity").settings.database_url, signed.username, True)

        async def allowed() -> bool:
            # A grant shows once the user's cached (role-less) answer lapses (session_cache_ttl_s).
            return (await stack.client.get("/v1/ops/identity/policy-notices")).status_code == 200

        await eventually(allowed)
        generic = await stack.client.get("/v1/ops/identity/outbox")  # the kit's ops route
        assert generic.status_code == 200
        log = await stack.client.get("/v1/ops/identity/security-log", params={"user_id": str(signed.user_id)})
        events = [(row["event"], row["detail"].get("path")) for row in log.json()["items"]]
        assert events.count(("admin_access", "/v1/ops/identity/policy-notices")) == 1
        assert ("admin_access", "/v1/ops/identity/outbox") in events
        assert ("admin_granted", None) in events
        assert all("password" not in str(row) for row in log.json()["items"])
        assert set_admin(stack.unit("identity").settings.database_url, signed.username, False)
        assert (await stack.client.get("/v1/ops/identity/policy-notices")).status_code == 403


def test_default_bcrypt_cost_is_twelve() -> None:
    assert IdentitySettings().bcrypt_rounds == 12
