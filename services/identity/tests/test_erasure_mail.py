"""The embedded mail spool is personal data: an erasure deletes the user's ``.eml`` files and
verification counts them, only the erasure confirmation goes out afterwards (declared in the
receipt), and a sweep deletes old files."""

from __future__ import annotations

import os
import time
import uuid

from aiflux_contracts import ErasureRequested, ErasureVerificationRequested, UserNotificationRequested
from aiflux_identity.testing import mails_to, register_and_login, wait_for_mail


async def test_erasure_deletes_the_users_mails_and_only_the_confirmation_follows(
    identity_stack, helpers
) -> None:
    async with identity_stack() as stack:
        await helpers.record_outbox(stack)
        signed = await register_and_login(stack.client, stack.data_dir)
        other = await register_and_login(stack.client, stack.data_dir)
        request_id = uuid.uuid4()
        await helpers.publish(stack, ErasureRequested(request_id=request_id, user_id=signed.user_id))

        async def receipt():  # type: ignore[no-untyped-def]
            return await helpers.published(stack, "identity.erasure_completed.v1")

        [answer] = await helpers.eventually(receipt)
        assert answer["deleted"]["mails"] == 1  # the verification mail
        assert mails_to(stack.data_dir, signed.email) == []
        assert len(mails_to(stack.data_dir, other.email)) == 1
        retained = {item["category"]: item for item in answer["retained"]}
        assert {"erasure_confirmation_mail", "erasure_guard", "erasure_messages"} <= set(retained)
        confirmation = retained["erasure_confirmation_mail"]
        assert (confirmation["retention_rule"], confirmation["legal_basis"]) == (
            "mail-spool",
            "Art. 6(1)(b)",
        )  # the rule that keeps the spool, with its basis

        # An export link that was on its way is dropped; verification finds no mail.
        await helpers.publish(
            stack,
            UserNotificationRequested(
                user_id=signed.user_id, template="export_ready", params={"request_id": str(uuid.uuid4())}
            ),
        )
        await helpers.publish(
            stack, ErasureVerificationRequested(request_id=request_id, user_id=signed.user_id)
        )

        async def verified():  # type: ignore[no-untyped-def]
            return await helpers.published(stack, "identity.erasure_verified.v1")

        [verification] = await helpers.eventually(verified)
        assert verification["remaining"]["mails"] == 0
        # The confirmation (after the certificate) is the one mail the erased user still gets.
        await helpers.publish(
            stack,
            UserNotificationRequested(user_id=signed.user_id, template="erasure_confirmation", params={}),
        )
        await wait_for_mail(stack.data_dir, signed.email, "")
        subjects = [str(m["Subject"]).lower() for m in mails_to(stack.data_dir, signed.email)]
        assert len(subjects) == 1 and "export" not in subjects[0]


async def test_the_mail_spool_sweep_deletes_files_past_the_rule(identity_stack) -> None:
    async with identity_stack(mail_spool_keep_days=7) as stack:
        old = await register_and_login(stack.client, stack.data_dir)
        fresh = await register_and_login(stack.client, stack.data_dir)
        [path] = [p for p in (stack.data_dir / "mail").glob("*.eml") if old.email.encode() in p.read_bytes()]
        eight_days_ago = time.time() - 8 * 86400
        os.utime(path, (eight_days_ago, eight_days_ago))

        swept = await stack.runtime.run_sweep("identity", "mail-spool-retention")

        assert swept.counts == {"deleted": 1}
        assert mails_to(stack.data_dir, old.email) == []
        assert len(mails_to(stack.data_dir, fresh.email)) == 1
