"""The whole account life cycle over real HTTP, with mail through a real SMTP server."""

from __future__ import annotations

import asyncio
import hashlib
import time
import uuid

import httpx
from aiflux_identity.adapters.orm import users
from aiflux_identity.testing import DEFAULT_PASSWORD, link_token, register, register_and_login
from sqlalchemy import select, text

AT = "@example.com"


async def _mail(inbox, address: str, subject: str, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in inbox.to(address) if subject.lower() in str(m["Subject"]).lower()]
        if found:
            return found[-1]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {subject!r} mail to the address")


async def test_helper_signs_in_a_verified_user(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        response = await stack.client.get("/v1/account")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user_id"] == str(signed.user_id)
        assert body["email_verified"] is True
        assert body["accepted_policy_version"] == "2026-05-09"
        # Over plain HTTP (local runs) the cookie has no __Host- prefix and no Secure flag.
        assert list(signed.cookies) == ["aiflux_session"]


async def test_register_verify_login_rectify_delete_over_smtp(identity_stack, smtp_inbox, helpers) -> None:
    inbox, port = smtp_inbox
    if True:
        async with identity_stack(smtp_host="127.0.0.1", smtp_port=port, smtp_starttls=False) as stack:
            await helpers.record_outbox(stack)
            client = stack.client
            old, new = "alice" + AT, "alice.new" + AT
            response = await register(client, username="alice", email=old, password=DEFAULT_PASSWORD)
            assert response.status_code == 202
            mail = await _mail(inbox, old, "verify")
            assert mail.get_body(("html",)) is not None  # plain text and HTML
            assert stack.base_url in str(mail.get_body(("plain",)).get_content())

            login = {"login": "alice", "password": DEFAULT_PASSWORD}
            refused = await client.post("/v1/auth/login", json=login)
            assert refused.json()["type"] == "urn:aiflux:problem:email-not-verified"
            token = link_token(mail)
            assert (await client.post("/v1/auth/verify-email", json={"token": token})).status_code == 200
            again = await client.post("/v1/auth/verify-email", json={"token": token})
            assert again.status_code == 400  # single use

            signed = await client.post("/v1/auth/login", json=login)
            assert signed.status_code == 200
            csrf = {"X-CSRF-Token": signed.json()["csrf_token"]}
            user_id = uuid.UUID(signed.json()["user_id"])

            patch = await client.patch(
                "/v1/account",
                headers=csrf,
                json={"username": "alice2", "email": new, "current_password": DEFAULT_PASSWORD},
            )
            assert patch.status_code == 200, patch.text
            assert patch.json()["username"] == "alice2"
            assert patch.json()["email"] == old  # not before the new address is confirmed
            assert patch.json()["pending_email"] == new
            confirm = await _mail(inbox, new, "confirm your new email")
            assert (
                await client.post("/v1/auth/verify-email", json={"token": link_token(confirm)})
            ).status_code == 200
            await _mail(inbox, old, "was changed")
            profile = (await client.get("/v1/account")).json()
            assert (profile["username"], profile["email"]) == ("alice2", new)

            wrong = await client.request(
                "DELETE", "/v1/account", headers=csrf, json={"password": "not the password"}
            )
            assert wrong.status_code == 403
            deleted = await client.request(
                "DELETE", "/v1/account", headers=csrf, json={"password": DEFAULT_PASSWORD}
            )
            assert deleted.status_code == 202, deleted.text
            request_id = deleted.json()["request_id"]
            # A link to follow the erasure once the session is gone: only its hash travels.
            link = httpx.URL(deleted.json()["status_url"])
            assert str(link).startswith(stack.base_url)
            assert link.path == f"/v1/privacy/requests/{request_id}/status"
            token = link.params["token"]
            assert len(token) >= 32
            assert (await client.get("/v1/account")).status_code == 401
            gone = await client.post("/v1/auth/login", json={"login": "alice2", "password": DEFAULT_PASSWORD})
            assert gone.status_code == 401

            database = stack.unit("identity").database
            async with database.transaction() as session:
                row = (
                    await session.execute(
                        select(users.c.deleted_at, users.c.deletion_request_id).where(users.c.id == user_id)
                    )
                ).one()
            assert row.deleted_at is not None and str(row.deletion_request_id) == request_id
            payloads = await helpers.published(stack, "identity.user_deleted.v1")
            assert {
                "user_id": str(user_id),
                "request_id": request_id,
                "reason": "user_request",
                "status_token_sha256": hashlib.sha256(token.encode()).hexdigest(),
                "account_name_sha256": hashlib.sha256(b"alice2").hexdigest(),
            } in payloads

            async def own_events_delivered() -> bool:
                async with database.transaction() as session:
                    return not (
                        await session.execute(
                            text(
                                "SELECT 1 FROM outbox WHERE sent_at IS NULL AND routing_key IN"
                                " ('identity.session_revoked.v1', 'identity.user_updated.v1')"
                            )
                        )
                    ).first()

            await helpers.eventually(own_events_delivered)


async def test_taken_and_free_addresses_get_the_same_answer(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        free = await register(
            stack.client, username="newcomer", email="newcomer" + AT, password=DEFAULT_PASSWORD
        )
        taken = await register(
            stack.client, username="someone", email=signed.email, password=DEFAULT_PASSWORD
        )
        assert (free.status_code, free.json()) == (taken.status_code, taken.json())
        assert free.status_code == 202
        from aiflux_identity.testing import wait_for_mail

        await wait_for_mail(stack.data_dir, signed.email, "tried to register")
        name_taken = await register(
            stack.client, username=signed.username.upper(), email="other" + AT, password=DEFAULT_PASSWORD
        )
        assert name_taken.status_code == 409
        assert name_taken.json()["type"] == "urn:aiflux:problem:username-taken"


async def test_unknown_login_and_wrong_password_look_the_same(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        stack.client.cookies.clear()
        unknown = await stack.client.post(
            "/v1/auth/login", json={"login": "nobody", "password": "whatever123"}
        )
        wrong = await stack.client.post(
            "/v1/auth/login", json={"login": signed.username, "password": "whatever123"}
        )
        assert unknown.status_code == wrong.status_code == 401
        strip = lambda r: {k: v for k, v in r.json().items() if k != "instance"}  # noqa: E731
        assert strip(unknown) == strip(wrong)
        assert "set-cookie" not in unknown.headers and "set-cookie" not in wrong.headers
