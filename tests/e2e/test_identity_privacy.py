"""Identity and privacy together: policy publication mails every user, marketing mails carry a
working one-click withdrawal link, a confirmed minor report suspends and erases the account."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from aiflux_identity.testing import mail_text, mails_to, wait_for_mail

LINK = re.compile(r"https?://\S+/v1/privacy/consents/marketing/withdraw\?\S+")


async def test_policy_publication_and_marketing_reach_users_by_mail(stack_factory, people, as_system, wait):
    async with (
        stack_factory(services=["identity", "privacy"]) as stack,
        people(as_system(stack)) as new_person,
    ):
        admin = await new_person(admin=True)
        keen = await new_person()
        quiet = await new_person()
        on = await keen.client.put(
            "/v1/privacy/consents/marketing", json={"granted": True}, headers=keen.headers
        )
        assert on.status_code == 200, on.text

        sent = await admin.client.post(
            "/v1/ops/privacy/marketing/campaigns",
            json={"subject": "Winter credits", "body": "Double credits this week."},
            headers=admin.headers,
        )
        assert sent.status_code == 202, sent.text
        assert sent.json()["recipients"] == 1
        mail = await wait_for_mail(stack.data_dir, keen.signed.email, "Winter credits")
        assert not [m for m in mails_to(stack.data_dir, quiet.signed.email) if "Winter" in str(m["Subject"])]
        link = urlsplit(LINK.search(mail_text(mail)).group(0))
        assert mail["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert mail["List-Unsubscribe"] == f"<{link.geturl()}>"
        async with type(keen.client)(base_url=stack.base_url) as anonymous:
            page = await anonymous.get(f"{link.path}?{link.query}")
            assert page.status_code == 200 and "Unsubscribe" in page.text
            clicked = await anonymous.post(f"{link.path}?{link.query}")
        assert clicked.status_code == 200 and clicked.json()["changed"] is True
        state = (await keen.client.get("/v1/privacy/consents")).json()
        assert state["consents"]["marketing"]["granted"] is False

        published = await admin.client.post(
            "/v1/ops/privacy/policy/versions",
            json={
                "version": "2026-12-01",
                "substantial": True,
                "text": "Privacy Policy, version of 1 December 2026 ...",
            },
            headers=admin.headers,
        )
        assert published.status_code == 201, published.text
        for person in (admin, keen, quiet):
            await wait_for_mail(stack.data_dir, person.signed.email, "privacy policy changed", within_s=30)


async def test_a_confirmed_minor_report_suspends_and_erases_the_account(
    stack_factory, people, as_system, wait
):
    async with (
        stack_factory(services=["identity", "privacy"]) as stack,
        people(as_system(stack)) as new_person,
    ):
        admin = await new_person(admin=True)
        child = await new_person()
        async with type(admin.client)(base_url=stack.base_url) as anyone:
            reported = await anyone.post(
                "/v1/privacy/minor-reports",
                json={"account": child.signed.username, "details": "says she is 13 in her bio"},
            )
        assert reported.status_code == 202
        queue = (await admin.client.get("/v1/ops/privacy/minor-reports")).json()["items"]
        assert [r["id"] for r in queue] == [reported.json()["id"]]

        decided = await admin.client.post(
            f"/v1/ops/privacy/minor-reports/{reported.json()['id']}/decision",
            json={
                "confirmed": True,
                "reason": "confirmed with the parent",
                "user_id": str(child.signed.user_id),
            },
            headers=admin.headers,
        )
        assert decided.status_code == 200, decided.text
        request_id = decided.json()["erasure_request_id"]

        async def receipts_of_identity_and_privacy():
            shown = (await admin.client.get(f"/v1/ops/privacy/requests/{request_id}")).json()
            progress = shown["progress"]
            # privacy erases its own part too; its receipt may land just after identity's
            answered = all(progress.get(s, {}).get("receipt") for s in ("identity", "privacy"))
            return shown if answered else None

        shown = await wait(receipts_of_identity_and_privacy)
        assert shown["type"] == "erasure"
        login = await child.client.post(
            "/v1/auth/login", json={"login": child.signed.username, "password": child.signed.password}
        )
        assert login.status_code in (401, 403)
        account = await child.client.get("/v1/account")
        assert account.status_code == 401
