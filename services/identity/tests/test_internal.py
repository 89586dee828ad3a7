"""Internal routes, the export part, and bad input at registration."""

from __future__ import annotations

import json
import uuid

import httpx
from aiflux_contracts import ExportRequested
from aiflux_identity.testing import DEFAULT_PASSWORD, register, register_and_login
from aiflux_kit.auth import ServiceTokenAuth
from aiflux_kit.settings import derive_secret
from sqlalchemy import text


def _as(caller: str, stack, audience: str = "identity") -> httpx.AsyncClient:  # type: ignore[no-untyped-def]
    """A client signed as another service, as the kit's peer_client signs."""
    key = derive_secret("test-master-secret", f"service:{caller}")
    return httpx.AsyncClient(base_url=stack.base_url, auth=ServiceTokenAuth(caller, audience, key))


async def test_introspection_and_suspension(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        token = next(iter(signed.cookies.values()))
        route = "/internal/identity/sessions/introspect"
        unsigned = await httpx.AsyncClient(base_url=stack.base_url).post(route, json={"session_token": token})
        assert unsigned.status_code == 403
        async with _as("billing", stack) as billing:
            known = await billing.post(route, json={"session_token": token})
            assert known.status_code == 200
            assert known.json()["user_id"] == str(signed.user_id)
            assert known.json()["policy_accepted"] is True
            assert "csrf_token" not in known.json() and len(known.json()["csrf_token_hash"]) == 64
            assert (await billing.post(route, json={"session_token": "nope"})).status_code == 404
            suspend = f"/internal/identity/users/{signed.user_id}/suspend"
            assert (await billing.post(suspend, json={"reason": "x"})).status_code == 403
        async with _as("privacy", stack) as privacy:
            assert (await privacy.post(suspend, json={"reason": "minor report"})).status_code == 200
        assert (await stack.client.get("/v1/account")).status_code == 401
        again = await stack.client.post(
            "/v1/auth/login", json={"login": signed.username, "password": DEFAULT_PASSWORD}
        )
        assert again.json()["type"] == "urn:aiflux:problem:account-suspended"


async def test_export_part_goes_through_storage(identity_stack, helpers) -> None:
    async with identity_stack(services=("identity", "storage")) as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        request_id = uuid.uuid4()
        await helpers.publish(stack, ExportRequested(request_id=request_id, user_id=signed.user_id))

        async def announced():  # type: ignore[no-untyped-def]
            async with stack.unit("identity").database.transaction() as session:
                return (
                    (
                        await session.execute(
                            text(
                                "SELECT body FROM outbox WHERE routing_key = 'identity.export_part_ready.v1'"
                            )
                        )
                    )
                    .scalars()
                    .all()
                )

        part = json.loads((await helpers.eventually(announced))[0])["payload"]
        assert part["objects"] == ["identity.json"]
        async with _as("privacy", stack, "storage") as privacy:
            stored = await privacy.get(f"/internal/storage/exports/{request_id}/objects/identity.json")
        assert stored.status_code == 200, stored.text
        document = stored.json()
        assert document["profile"]["username"] == signed.username
        assert document["profile"]["email"] == signed.email
        assert len(document["sessions"]) == 1
        assert {"registered", "login_succeeded"} <= {e["event"] for e in document["security_log"]}
        raw = stored.text
        assert "password_hash" not in raw and "token_hash" not in raw and "$2b$" not in raw


async def test_registration_bad_input_gets_clear_problems(identity_stack) -> None:
    async with identity_stack() as stack:
        at = "@example.com"
        cases = [
            ({"birth_date": "2015-01-01"}, 403, "under-minimum-age"),
            ({"password": "password"}, 422, "password-too-common"),
            ({"password": "p" * 73}, 422, "password-too-long"),
            ({"email": "nope"}, 422, "invalid-email"),
            ({"username": "a b"}, 422, "invalid-username"),
            ({"policy_version": "1999-01-01"}, 422, "policy-version-mismatch"),
        ]
        for change, status, slug in cases:
            body = {"username": "newuser", "email": "new" + at, "password": DEFAULT_PASSWORD, **change}
            response = await register(stack.client, **body)
            assert (response.status_code, response.json()["type"]) == (
                status,
                f"urn:aiflux:problem:{slug}",
            ), change
            assert response.headers["content-type"] == "application/problem+json"
        garbage = await stack.client.post(
            "/v1/auth/register", content=b"{not json", headers={"content-type": "application/json"}
        )
        assert garbage.status_code == 422
        empty = await stack.client.post("/v1/auth/verify-email", json={"token": "x" * 40})
        assert empty.status_code == 400


async def test_mail_outage_does_not_fail_registration_and_the_link_can_be_resent(identity_stack) -> None:
    import socket

    from aiflux_identity.adapters.mail import FileMailer
    from aiflux_identity.testing import link_token, wait_for_mail

    with socket.socket() as probe:  # a port nobody listens on: the SMTP server is down
        probe.bind(("127.0.0.1", 0))
        dead_port = probe.getsockname()[1]
    async with identity_stack(smtp_host="127.0.0.1", smtp_port=dead_port, smtp_starttls=False) as stack:
        address = "outage" + "@example.com"
        first = await register(stack.client, username="outage", email=address, password=DEFAULT_PASSWORD)
        assert first.status_code == 202
        # The mail server is back (here: the file mailer); the user asks for a new link.
        stack.container("identity").mailer = FileMailer(stack.data_dir / "mail", "AIFLUX")
        resent = await stack.client.post("/v1/auth/verify-email/resend", json={"email": address})
        assert resent.status_code == 202
        token = link_token(await wait_for_mail(stack.data_dir, address, "verify"))
        assert (await stack.client.post("/v1/auth/verify-email", json={"token": token})).status_code == 200
        login = await stack.client.post(
            "/v1/auth/login", json={"login": address, "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200
        unknown = await stack.client.post(
            "/v1/auth/verify-email/resend", json={"email": "nobody" + "@example.com"}
        )
        assert unknown.status_code == 202
