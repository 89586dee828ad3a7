"""Session cookies, CSRF, revocation seen by another service, password reset races."""

from __future__ import annotations

import asyncio

import httpx
from aiflux_identity.testing import DEFAULT_PASSWORD, link_token, register_and_login, wait_for_mail
from aiflux_kit.auth import CurrentUser, RemoteSessionVerifier, ServiceTokenAuth
from aiflux_kit.errors import install_problem_handlers
from aiflux_kit.settings import derive_secret
from fastapi import FastAPI
from sqlalchemy import text


async def test_cookie_attributes_over_https(identity_stack) -> None:
    async with identity_stack(public_url="https://aiflux.example.com") as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        assert list(signed.cookies) == ["__Host-aiflux_session"]
        response = await stack.client.post(
            "/v1/auth/login", json={"login": signed.username, "password": DEFAULT_PASSWORD}
        )
        cookie = response.headers["set-cookie"]
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
        assert cookie.startswith("__Host-aiflux_session=")
        assert {"httponly", "secure", "samesite", "path"} <= attributes
        assert "domain" not in attributes  # __Host- cookies are bound to the exact host
        assert "samesite=lax" in cookie.lower() and "path=/" in cookie.lower()
        assert response.json()["csrf_token"] not in cookie

        # Idle and absolute timeouts end a session (Bearer: the Secure cookie is not sent over
        # this test's plain HTTP).
        bearer = {"Authorization": f"Bearer {response.cookies['__Host-aiflux_session']}"}
        assert (await stack.client.get("/v1/account", headers=bearer)).status_code == 200
        database = stack.unit("identity").database
        async with database.transaction() as session:
            await session.execute(text("UPDATE sessions SET last_seen_at = now() - interval '3 hours'"))
        # The clock "moved" 3 hours: so would the cached answer's deadline (it never outlives
        # the session's expiry, and lives seconds at most).
        stack.unit("identity").session_verifier.cache.clear()
        assert (await stack.client.get("/v1/account", headers=bearer)).status_code == 401
        fresh = await stack.client.post(
            "/v1/auth/login", json={"login": signed.username, "password": DEFAULT_PASSWORD}
        )
        bearer = {"Authorization": f"Bearer {fresh.cookies['__Host-aiflux_session']}"}
        assert (await stack.client.get("/v1/account", headers=bearer)).status_code == 200
        async with database.transaction() as session:
            await session.execute(text("UPDATE sessions SET created_at = now() - interval '8 days'"))
        stack.unit("identity").session_verifier.cache.clear()
        assert (await stack.client.get("/v1/account", headers=bearer)).status_code == 401


def _other_service(stack) -> FastAPI:  # type: ignore[no-untyped-def]
    """A second service in distributed mode: it knows callers only through introspection."""
    app = FastAPI()
    install_problem_handlers(app)
    key = derive_secret("test-master-secret", "service:billing")
    app.state.session_verifier = RemoteSessionVerifier(
        httpx.AsyncClient(base_url=stack.base_url, auth=ServiceTokenAuth("billing", "identity", key)), ttl=5.0
    )

    @app.get("/v1/whoami")
    async def whoami(user: CurrentUser) -> dict[str, str]:
        return {"user_id": str(user.user_id)}

    @app.post("/v1/things")
    async def change(user: CurrentUser) -> dict[str, str]:
        return {"changed_by": str(user.user_id)}

    return app


async def test_csrf_and_revocation_reach_another_service(identity_stack, helpers) -> None:
    async with identity_stack(services=("identity", "billing")) as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        # Embedded: billing in the same process asks identity's verifier directly.
        assert (await stack.client.get("/v1/billing/balance")).status_code == 200
        other = httpx.AsyncClient(
            transport=httpx.ASGITransport(_other_service(stack)),
            base_url="http://other",
            cookies=signed.cookies,
        )
        assert (await other.get("/v1/whoami")).json() == {"user_id": str(signed.user_id)}
        no_csrf = await other.post("/v1/things")
        assert no_csrf.status_code == 403
        assert no_csrf.json()["type"] == "urn:aiflux:problem:csrf-token-missing"
        assert (await other.post("/v1/things", headers=signed.headers)).status_code == 200
        own = await stack.client.patch(
            "/v1/account", json={"username": "renamed", "current_password": DEFAULT_PASSWORD}
        )
        assert own.status_code == 403  # identity itself refuses too
        assert (await stack.client.get("/v1/account")).json()["username"] == signed.username

        sessions = (await stack.client.get("/v1/account/sessions")).json()["items"]
        assert [s["current"] for s in sessions] == [True]
        revoked = await stack.client.delete(
            f"/v1/account/sessions/{sessions[0]['id']}", headers=signed.headers
        )
        assert revoked.status_code == 204
        assert (await stack.client.get("/v1/account")).status_code == 401
        assert (await stack.client.get("/v1/billing/balance")).status_code == 401

        async def rejected() -> bool:
            return (await other.get("/v1/whoami")).status_code == 401

        await helpers.eventually(rejected, within_s=8)  # cache TTL is 5 s
        await other.aclose()

        # Logout needs the CSRF token too, and ends the session.
        stack.client.cookies.clear()
        again = await stack.client.post(
            "/v1/auth/login", json={"login": signed.username, "password": DEFAULT_PASSWORD}
        )
        csrf = {"X-CSRF-Token": again.json()["csrf_token"]}
        assert (await stack.client.post("/v1/auth/logout")).status_code == 403
        assert (await stack.client.post("/v1/auth/logout", headers=csrf)).status_code == 204
        assert (await stack.client.get("/v1/account")).status_code == 401


async def test_sixteen_concurrent_resets_with_one_token_succeed_at_most_once(identity_stack) -> None:
    async with identity_stack(limit_reset_account="100/hour", limit_reset_ip="100/hour") as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        forgot = await stack.client.post("/v1/auth/password/forgot", json={"email": signed.email})
        assert forgot.status_code == 202
        token = link_token(await wait_for_mail(stack.data_dir, signed.email, "reset"))
        passwords = [f"brand new secret number {i}" for i in range(16)]
        answers = await asyncio.gather(
            *(
                stack.client.post("/v1/auth/password/reset", json={"token": token, "new_password": p})
                for p in passwords
            )
        )
        winners = [p for p, r in zip(passwords, answers, strict=True) if r.status_code == 200]
        assert len(winners) == 1, [r.status_code for r in answers]
        assert all(r.status_code == 400 for r in answers if r.status_code != 200)
        assert all("set-cookie" not in r.headers for r in answers)  # reset does not log in
        # Every earlier session ended; only the winning password opens a new one.
        assert (await stack.client.get("/v1/account", cookies=signed.cookies)).status_code == 401
        stack.client.cookies.clear()
        for password in (DEFAULT_PASSWORD, passwords[0] if winners[0] != passwords[0] else passwords[1]):
            bad = await stack.client.post(
                "/v1/auth/login", json={"login": signed.username, "password": password}
            )
            assert bad.status_code == 401
        good = await stack.client.post(
            "/v1/auth/login", json={"login": signed.username, "password": winners[0]}
        )
        assert good.status_code == 200
