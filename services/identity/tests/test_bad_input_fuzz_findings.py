"""Inputs schemathesis found answered with a 500, each now a clear problem."""

from __future__ import annotations

from aiflux_identity.commands import set_admin
from aiflux_identity.testing import register_and_login


def _problem(response, status):  # type: ignore[no-untyped-def]
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    return response.json()


async def test_security_log_cursor_out_of_range_and_nul_in_a_login(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        assert set_admin(stack.unit("identity").settings.database_url, signed.username, True)
        # ?cursor=99999999999999999999999 was a 500 (bigint overflow)
        for cursor in ("99999999999999999999999", str(2**63), "0", "-5"):
            body = _problem(await stack.client.get("/v1/ops/identity/security-log",
                                                   params={"cursor": cursor}), 422)
            assert body["type"] == "urn:aiflux:problem:validation-error"
            assert ["query", "cursor"] in [e["loc"] for e in body["errors"]]
        last = await stack.client.get("/v1/ops/identity/security-log",
                                      params={"cursor": str(2**63 - 1), "limit": 1})
        assert last.status_code == 200, last.text
        # {"login": "a\u0000b"} was a 500 (PostgreSQL text cannot hold NUL)
        body = _problem(await stack.client.post("/v1/auth/login", json={
            "login": "a\u0000b", "password": "whatever it is"}), 422)
        assert "a\u0000b" not in str(body)
