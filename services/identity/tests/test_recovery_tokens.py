"""Recovery ends every pending link: an address change requested by someone holding the account
does not survive a password reset, a password change, a suspension or a deletion, and an applied
address change ends the sessions and the reset links of the old owner."""

from __future__ import annotations

from typing import Any

from aiflux_identity.handlers import account
from aiflux_identity.testing import (
    DEFAULT_PASSWORD,
    SignedIn,
    link_token,
    register_and_login,
    wait_for_mail,
)

AT = "@example.com"
NEW_PASSWORD = "brand new secret 9911"


def csrf(signed: SignedIn) -> dict[str, str]:
    return {"X-CSRF-Token": signed.csrf_token}


async def request_email_change(stack: Any, signed: SignedIn, new_address: str) -> str:
    """As ``signed`` (e.g. an attacker with the session and password): move the address."""
    answer = await stack.client.patch(
        "/v1/account",
        json={"email": new_address, "current_password": DEFAULT_PASSWORD},
        headers=csrf(signed),
        cookies=signed.cookies,
    )
    assert answer.status_code == 200, answer.text
    return link_token(await wait_for_mail(stack.data_dir, new_address, "address"))


async def reset_by_mail(stack: Any, address: str, new_password: str) -> int:
    c = stack.client
    assert (await c.post("/v1/auth/password/forgot", json={"email": address})).status_code == 202
    token = link_token(await wait_for_mail(stack.data_dir, address, "reset"))
    answer = await c.post("/v1/auth/password/reset", json={"token": token, "new_password": new_password})
    return answer.status_code


async def test_password_reset_kills_a_pending_email_change(identity_stack: Any) -> None:
    async with identity_stack() as stack:
        victim = await register_and_login(
            stack.client, stack.data_dir, username="victim", email="victim" + AT
        )
        change_token = await request_email_change(stack, victim, "attacker" + AT)
        stack.client.cookies.clear()
        assert await reset_by_mail(stack, "victim" + AT, NEW_PASSWORD) == 200
        stale = await stack.client.post("/v1/auth/verify-email", json={"token": change_token})
        assert stale.status_code == 400, stale.text
        # The address stayed the victim's: the attacker cannot recover the account.
        login = await stack.client.post(
            "/v1/auth/login", json={"login": "victim" + AT, "password": NEW_PASSWORD}
        )
        assert login.status_code == 200
        profile = (await stack.client.get("/v1/account")).json()
        assert profile["email"] == "victim" + AT and profile["pending_email"] is None


async def test_password_change_kills_a_pending_email_change(identity_stack: Any) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir, username="owner", email="owner" + AT)
        change_token = await request_email_change(stack, signed, "intruder" + AT)
        changed = await stack.client.post(
            "/v1/account/password",
            headers=csrf(signed),
            cookies=signed.cookies,
            json={"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        )
        assert changed.status_code == 204, changed.text
        stale = await stack.client.post("/v1/auth/verify-email", json={"token": change_token})
        assert stale.status_code == 400, stale.text


async def test_suspension_kills_pending_links(identity_stack: Any) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(
            stack.client, stack.data_dir, username="suspended", email="suspended" + AT
        )
        change_token = await request_email_change(stack, signed, "elsewhere" + AT)
        await account.suspend(stack.container("identity"), signed.user_id, "reported as minor")
        stale = await stack.client.post("/v1/auth/verify-email", json={"token": change_token})
        assert stale.status_code == 400, stale.text


async def test_deletion_marks_pending_links_used(identity_stack: Any) -> None:
    from aiflux_identity.adapters.orm import email_tokens
    from sqlalchemy import func, select

    async with identity_stack() as stack:
        signed = await register_and_login(
            stack.client, stack.data_dir, username="leaving", email="leaving" + AT
        )
        await request_email_change(stack, signed, "other" + AT)
        deleted = await stack.client.request(
            "DELETE",
            "/v1/account",
            json={"password": DEFAULT_PASSWORD},
            headers=csrf(signed),
            cookies=signed.cookies,
        )
        assert deleted.status_code == 202, deleted.text
        async with stack.container("identity").database.transaction() as session:
            unused = (
                await session.execute(
                    select(func.count())
                    .select_from(email_tokens)
                    .where(
                        email_tokens.c.user_id == signed.user_id,
                        email_tokens.c.purpose.in_(("reset", "email_change")),
                        email_tokens.c.used_at.is_(None),
                    )
                )
            ).scalar_one()
        assert unused == 0


async def test_applied_email_change_ends_sessions_and_reset_links(identity_stack: Any) -> None:
    async with identity_stack() as stack:
        c = stack.client
        signed = await register_and_login(c, stack.data_dir, username="mover", email="mover" + AT)
        # A reset link mailed to the old address before the change.
        c.cookies.clear()
        assert (await c.post("/v1/auth/password/forgot", json={"email": "mover" + AT})).status_code == 202
        reset_token = link_token(await wait_for_mail(stack.data_dir, "mover" + AT, "reset"))
        other = await c.post("/v1/auth/login", json={"login": "mover", "password": DEFAULT_PASSWORD})
        assert other.status_code == 200
        other_cookies = dict(other.cookies)
        c.cookies.clear()
        change_token = await request_email_change(stack, signed, "moved" + AT)
        c.cookies.clear()
        applied = await c.post("/v1/auth/verify-email", json={"token": change_token}, cookies=signed.cookies)
        assert applied.status_code == 200, applied.text
        # The confirming caller keeps its session; every other session ended with the change.
        c.cookies.clear()
        assert (await c.get("/v1/account", cookies=signed.cookies)).status_code == 200
        c.cookies.clear()
        assert (await c.get("/v1/account", cookies=other_cookies)).status_code == 401
        c.cookies.clear()
        # The reset link sent to the old address is dead.
        stale = await c.post(
            "/v1/auth/password/reset", json={"token": reset_token, "new_password": NEW_PASSWORD}
        )
        assert stale.status_code == 400, stale.text
        login = await c.post("/v1/auth/login", json={"login": "moved" + AT, "password": DEFAULT_PASSWORD})
        assert login.status_code == 200
