"""Every mail says what happened and what the user can do, with the real figures (validity
periods from the settings, dates of the export), never an enum name alone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from aiflux_contracts import UserNotificationRequested
from aiflux_identity.testing import mail_text, register_and_login, wait_for_mail


async def test_links_state_their_real_validity_and_the_export_its_deadline(identity_stack, helpers) -> None:
    async with identity_stack(reset_token_ttl_s=1800, verification_token_ttl_s=2 * 86400) as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        verify = mail_text(await wait_for_mail(stack.data_dir, signed.email, "verify"))
        assert "expires in 2 days" in verify

        forgot = await stack.client.post("/v1/auth/password/forgot", json={"email": signed.email})
        assert forgot.status_code == 202
        reset = mail_text(await wait_for_mail(stack.data_dir, signed.email, "reset"))
        assert "expires in 30 minutes" in reset and "an hour" not in reset

        expires_at = datetime(2027, 1, 8, 9, 30, tzinfo=UTC)
        request_id = uuid.uuid4()
        await helpers.publish(
            stack,
            UserNotificationRequested(
                user_id=signed.user_id,
                template="export_ready",
                params={
                    "request_id": str(request_id),
                    "expires_at": expires_at.isoformat(),
                    "download_url": f"/v1/privacy/requests/{request_id}/download",
                },
            ),
        )
        ready = mail_text(await wait_for_mail(stack.data_dir, signed.email, "export is ready"))
        assert "until 8 January 2027" in ready
        assert f"{stack.base_url}/v1/privacy/requests/{request_id}/download" in ready
