"""Identity's answers to the privacy service's events."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime

from aiflux_contracts import (
    ErasureRequested,
    ErasureVerificationRequested,
    PolicyPublished,
    UserNotificationRequested,
)
from aiflux_identity.adapters.orm import users
from aiflux_identity.testing import mail_text, mails_to, register_and_login, wait_for_mail
from sqlalchemy import select, text


async def _outbox(stack, routing_key: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """What identity published (recorded by ``helpers.record_outbox``: the erasure forgets
    the published rows of the user)."""
    async with stack.unit("identity").database.transaction() as session:
        bodies = (
            await session.execute(
                text("SELECT body FROM test_published WHERE routing_key = :k ORDER BY id"), {"k": routing_key}
            )
        ).scalars()
        return [json.loads(b)["payload"] for b in bodies]


async def test_erasure_request_disables_and_answers_idempotently(identity_stack, helpers) -> None:
    async with identity_stack() as stack:
        await helpers.record_outbox(stack)
        signed = await register_and_login(stack.client, stack.data_dir)
        request_id = uuid.uuid4()
        event = ErasureRequested(request_id=request_id, user_id=signed.user_id)
        await helpers.publish(stack, event)

        async def receipt():  # type: ignore[no-untyped-def]
            return await _outbox(stack, "identity.erasure_completed.v1")

        receipts = await helpers.eventually(receipt)
        assert (await stack.client.get("/v1/account")).status_code == 401
        deleted = await _outbox(stack, "identity.user_deleted.v1")
        assert [d["request_id"] for d in deleted] == [str(request_id)]
        assert deleted[0]["reason"] == "privacy_request"
        assert receipts[0]["deleted"]["sessions"] == 1
        retained = {item["category"]: item for item in receipts[0]["retained"]}
        assert retained["disabled_account"]["count"] == 1
        assert retained["security_log"]["count"] >= 3
        assert "6(1)(f)" in retained["security_log"]["legal_basis"]

        # A re-drive republishes UserDeleted with the same id and changes nothing else.
        async with stack.unit("identity").database.transaction() as session:
            first_deleted_at = (
                await session.execute(select(users.c.deleted_at).where(users.c.id == signed.user_id))
            ).scalar()
        await helpers.publish(stack, ErasureRequested(request_id=request_id, user_id=signed.user_id))

        async def redriven():  # type: ignore[no-untyped-def]
            return len(await _outbox(stack, "identity.user_deleted.v1")) == 2

        await helpers.eventually(redriven)
        async with stack.unit("identity").database.transaction() as session:
            assert (
                await session.execute(select(users.c.deleted_at).where(users.c.id == signed.user_id))
            ).scalar() == first_deleted_at

        await helpers.publish(
            stack, ErasureVerificationRequested(request_id=request_id, user_id=signed.user_id)
        )

        async def verified():  # type: ignore[no-untyped-def]
            return await _outbox(stack, "identity.erasure_verified.v1")

        remaining = (await helpers.eventually(verified))[0]["remaining"]
        assert remaining["sessions"] == 0 and remaining["email_tokens"] == 0
        assert remaining["disabled_account"] == 1

        # After the grace period the purge removes the row and says so.
        async with stack.unit("identity").database.transaction() as session:
            await session.execute(
                text("UPDATE users SET deleted_at = now() - interval '31 days' WHERE id = :u"),
                {"u": signed.user_id},
            )
        purge = await stack.runtime.run_sweep("identity", "account-purge")
        assert purge.counts == {"purged": 1}
        assert await _outbox(stack, "identity.user_purged.v1") == [{"user_id": str(signed.user_id)}]


async def test_substantial_policy_needs_reacceptance_and_mails_everyone(identity_stack, helpers) -> None:
    async with identity_stack(
        policy_notice_batch_size=1, policy_notice_interval_s=0.2, policy_switch_grace_s=0
    ) as stack:
        await helpers.record_outbox(stack)
        signed = await register_and_login(stack.client, stack.data_dir)
        other = await register_and_login(stack.client, stack.data_dir)  # client acts as other now
        await helpers.publish(
            stack, PolicyPublished(version="2026-12-01", substantial=True, effective_at=datetime.now(UTC))
        )

        async def refused():  # type: ignore[no-untyped-def]
            r = await stack.client.patch(
                "/v1/account", headers=other.headers, json={"current_password": other.password}
            )
            return r.status_code == 403 and r.json()["type"].endswith("policy-acceptance-required")

        await helpers.eventually(refused)
        stale = await stack.client.post(
            "/v1/account/policy-acceptance", headers=other.headers, json={"version": "2026-05-09"}
        )
        assert stale.status_code == 422
        accepted = await stack.client.post(
            "/v1/account/policy-acceptance", headers=other.headers, json={"version": "2026-12-01"}
        )
        assert accepted.status_code == 200
        profile = await stack.client.get("/v1/account")
        assert profile.json()["accepted_policy_version"] == "2026-12-01"
        ok = await stack.client.patch(
            "/v1/account", headers=other.headers, json={"current_password": other.password}
        )
        assert ok.status_code == 200
        assert {"user_id": str(other.user_id), "version": "2026-12-01"} in await _outbox(
            stack, "identity.policy_accepted.v1"
        )
        for user in (signed, other):
            await wait_for_mail(stack.data_dir, user.email, "privacy policy changed")
        # New registrations must accept the new version (past the switch grace, here none).
        from aiflux_identity.testing import register

        late = await register(
            stack.client,
            username="late",
            email="late" + "@example.com",
            password="late comer password",
            policy_version="2026-05-09",
        )
        assert late.status_code == 422 and late.json()["current_version"] == "2026-12-01"


async def test_notifications_are_mailed_and_marketing_needs_its_withdrawal_link(
    identity_stack, helpers
) -> None:
    async with identity_stack() as stack:
        signed = await register_and_login(stack.client, stack.data_dir)
        await helpers.publish(
            stack,
            UserNotificationRequested(
                user_id=signed.user_id,
                template="marketing",
                params={"subject": "Spring offer", "body": "Credits are cheaper this week."},
            ),
        )
        await helpers.publish(
            stack,
            UserNotificationRequested(
                user_id=signed.user_id,
                template="marketing",
                params={
                    "subject": "Summer offer",
                    "body": "New video models.",
                    "withdraw_url": f"{stack.base_url}/v1/privacy/consents/withdraw?t=abc",
                },
            ),
        )
        mail = await wait_for_mail(stack.data_dir, signed.email, "summer offer")
        assert f"{stack.base_url}/v1/privacy/consents/withdraw?t=abc" in mail_text(mail)
        request_id = uuid.uuid4()
        await helpers.publish(
            stack,
            UserNotificationRequested(
                user_id=signed.user_id, template="export_ready", params={"request_id": str(request_id)}
            ),
        )
        ready = await wait_for_mail(stack.data_dir, signed.email, "export is ready")
        assert f"{stack.base_url}/privacy/requests/{request_id}" in mail_text(ready)
        subjects = [str(m["Subject"]) for m in mails_to(stack.data_dir, signed.email)]
        assert not any("Spring" in s for s in subjects)  # no link, no marketing mail


async def test_the_erasure_mail_lists_everything_kept_with_period_and_basis(identity_stack, helpers) -> None:
    async with identity_stack() as stack:
        await helpers.record_outbox(stack)
        signed = await register_and_login(stack.client, stack.data_dir)
        await helpers.publish(stack, ErasureRequested(request_id=uuid.uuid4(), user_id=signed.user_id))

        async def receipt():  # type: ignore[no-untyped-def]
            return await _outbox(stack, "identity.erasure_completed.v1")

        [sent] = await helpers.eventually(receipt)
        kept = {item["category"]: item for item in sent["retained"]}
        assert (kept["disabled_account"]["legal_basis"], kept["disabled_account"]["retention_rule"]) == (
            "Art. 6(1)(b)",
            "account-data",
        )
        assert kept["security_log"]["retention_rule"] == "security-logs"

        # What privacy's certificate lists, including an item of a kind identity never saw.
        retained = [
            {
                **kept["disabled_account"],
                "service": "identity",
                "description": "Account data (username, email, password hash)",
                "period": "for the duration of the account and up to 30 days after deletion",
            },
            {**kept["security_log"], "service": "identity"},
            {
                "category": "mail_spool",
                "count": 2,
                "legal_basis": "Art. 6(1)(f)",
                "retained_until": "2027-01-05",
                "service": "identity",
            },
        ]
        await helpers.publish(
            stack,
            UserNotificationRequested(
                user_id=signed.user_id,
                template="erasure_confirmation",
                params={"request_id": str(uuid.uuid4()), "retained": retained},
            ),
        )
        text_ = mail_text(await wait_for_mail(stack.data_dir, signed.email, "were deleted"))
        purge_on = date.fromisoformat(kept["disabled_account"]["retained_until"])
        assert (
            "Account data (username, email, password hash): 1 record, kept until "
            f"{purge_on.day} {purge_on:%B %Y}" in text_
        )
        assert "up to 30 days after deletion). Legal basis: Art. 6(1)(b) GDPR." in text_
        assert "security log:" in text_ and "Art. 6(1)(f) GDPR" in text_
        assert "mail spool: 2 records, kept until 5 January 2027. Legal basis: Art. 6(1)(f)" in text_
