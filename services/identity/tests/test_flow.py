"""The whole account life cycle over real HTTP, mail as .eml files."""

from __future__ import annotations

from aiflux_identity.testing import register_and_login


async def test_helper_signs_in_a_verified_user(identity_stack) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        response = await stack.client.get("/v1/account")
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["user_id"] == str(signed.user_id)
        assert body["email_verified"] is True
        assert body["accepted_policy_version"] == "2026-05-09"
