"""The per-login rate limit does not link a username to its address: it counts the login string
as typed, so failures as ``alice`` throttle ``alice`` and nothing else."""

from __future__ import annotations

from typing import Any

from aiflux_identity.handlers.sessions import login_key
from aiflux_identity.testing import register_and_login

AT = "@example.com"
WRONG = {"password": "wrong wrong wrong 1"}


async def test_failures_as_a_username_do_not_throttle_its_address(identity_stack: Any) -> None:
    async with identity_stack(limit_login_account="5/15minutes", limit_login_ip="1000/minute") as stack:
        c = stack.client
        await register_and_login(c, stack.data_dir, username="alice", email="alice" + AT)
        await register_and_login(c, stack.data_dir, username="bob", email="bob" + AT)
        c.cookies.clear()
        for _ in range(3):
            r = await c.post("/v1/auth/login", json={"login": "alice", **WRONG})
            assert r.status_code == 401
        # The typed name itself is throttled (in any case and spacing)...
        for expected in (401, 429):
            r = await c.post("/v1/auth/login", json={"login": " ALICE ", **WRONG})
            assert r.status_code == expected
        # ...but alice's address answers exactly like bob's and an unknown one.
        answers = [
            (await c.post("/v1/auth/login", json={"login": name + AT, **WRONG})).status_code
            for name in ("alice", "bob", "nobody")
        ]
        assert answers == [401, 401, 401]


def test_login_key_normalises_what_was_typed_without_resolving_the_account() -> None:
    assert login_key("Alice") == login_key("  alice ")
    assert login_key("Alice@Example.com") == login_key("alice@example.com")
    assert login_key("alice") != login_key("alice" + AT)
