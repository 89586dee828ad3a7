"""What users are told about their privacy requests is true and complete (§7): the mail carries
the answer, the reason and the dates, in words, never a bare status name."""

from __future__ import annotations

from datetime import UTC, datetime

from aiflux_identity.testing import mail_text, mails_to, wait_for_mail


async def test_decision_extension_and_lifting_mails_carry_answer_and_reason(stack_factory, people, as_system):
    async with (
        stack_factory(services=["identity", "privacy"]) as stack,
        people(as_system(stack)) as new_person,
    ):
        admin, user = await new_person(admin=True), await new_person()
        filed = {}
        for kind in ("objection", "rectification", "restriction"):
            response = await user.client.post(
                "/v1/privacy/requests",
                headers=user.headers,
                json={"type": kind, "details": f"about my {kind}"},
            )
            assert response.status_code == 202, response.text
            filed[kind] = response.json()["id"]

        # Operators see the restriction in effect among the requests they must look after.
        listed = (await admin.client.get("/v1/ops/privacy/requests")).json()["items"]
        assert {r["id"]: r["status"] for r in listed}[filed["restriction"]] == "in_effect"

        extended = await admin.client.post(
            f"/v1/ops/privacy/requests/{filed['objection']}/extension",
            headers=admin.headers,
            json={"days": 30, "reason": "We must consult the model provider first."},
        )
        assert extended.status_code == 200, extended.text
        mail = mail_text(await wait_for_mail(stack.data_dir, user.signed.email, "extended"))
        assert "We must consult the model provider first." in mail
        due = datetime.fromisoformat(extended.json()["due_at"]).astimezone(UTC)
        assert f"{due.day} {due:%B %Y}" in mail and "objection" in mail

        rejected = await admin.client.post(
            f"/v1/ops/privacy/requests/{filed['objection']}/decision",
            headers=admin.headers,
            json={"granted": False, "answer": "Security logging is needed against abuse."},
        )
        assert rejected.status_code == 200, rejected.text
        mail = mail_text(await wait_for_mail(stack.data_dir, user.signed.email, "objection request was"))
        assert "Security logging is needed against abuse." in mail
        assert "rejected" in mail.lower() and "complaint" in mail.lower()

        granted = await admin.client.post(
            f"/v1/ops/privacy/requests/{filed['rectification']}/decision",
            headers=admin.headers,
            json={"granted": True, "answer": "We corrected your name."},
        )
        assert granted.status_code == 200
        mail = mail_text(await wait_for_mail(stack.data_dir, user.signed.email, "rectification request was"))
        assert "We corrected your name." in mail and "granted" in mail.lower()

        lifted = await admin.client.post(
            f"/v1/ops/privacy/requests/{filed['restriction']}/lift-restriction",
            headers=admin.headers,
            json={"reason": "The accuracy check is finished."},
        )
        assert lifted.status_code == 200
        mail = mail_text(await wait_for_mail(stack.data_dir, user.signed.email, "restriction of processing"))
        assert "The accuracy check is finished." in mail
        for message in mails_to(stack.data_dir, user.signed.email):
            text = mail_text(message)
            for bare in ("is now: decided", "deadline_extended", "restriction_lifted"):
                assert bare not in text
