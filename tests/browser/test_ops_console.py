"""The ops console in a real Chromium: an admin signs in at /ops/, sees the overdue privacy request
first, extends it with a reason, replays the mail that was parked while the mail server was down,
and finds that call in the security log; a user without the admin role is turned away."""

from __future__ import annotations

import asyncio
import re
import uuid

import httpx
import pytest
from aiflux_identity.commands import set_admin
from aiflux_identity.testing import mail_text, mails_to, register_and_login, wait_for_mail
from aiflux_kit.testing import eventually
from playwright.async_api import expect
from sqlalchemy import text

pytestmark = pytest.mark.slow  # the whole system and a browser
REASON = "We must consult the model provider before we can answer."
REPLAY_CALL = "POST /v1/ops/identity/dead-letters/notifications/replay"


@pytest.fixture(autouse=True)
def patient_assertions():
    """Assertions wait up to 20 s here (a shared, loaded CI machine), then the default again."""
    expect.set_options(timeout=20_000)
    yield
    expect.set_options(timeout=None)


async def file_request(client: httpx.AsyncClient, headers: dict[str, str], kind: str) -> str:
    response = await client.post(
        "/v1/privacy/requests", headers=headers, json={"type": kind, "details": f"About my {kind}."}
    )
    assert response.status_code == 202, response.text
    return str(response.json()["id"])


async def test_an_admin_extends_the_overdue_request_replays_a_parked_mail_and_sees_the_audit(browsing):
    async with (
        browsing() as b,
        httpx.AsyncClient(base_url=b.base_url, timeout=30) as admin_http,
        httpx.AsyncClient(base_url=b.base_url, timeout=30) as user_http,
    ):
        stack = b.stack
        admin, user = await asyncio.gather(
            register_and_login(admin_http, b.data_dir), register_and_login(user_http, b.data_dir)
        )
        identity_db = stack.unit("identity").settings.database_url
        assert await asyncio.to_thread(set_admin, identity_db, admin.username, True)
        overdue = await file_request(user_http, user.headers, "objection")
        newer = await file_request(user_http, user.headers, "rectification")
        # Test setup: the objection arrived 45 days ago and its month is over.
        async with stack.unit("privacy").database.transaction() as session:
            await session.execute(
                text(
                    "UPDATE privacy_request SET received_at = now() - interval '45 days',"
                    " due_at = now() - interval '14 days' WHERE id = :id"
                ),
                {"id": uuid.UUID(overdue)},
            )

        page = b.page
        # A shared, loaded CI machine: wait longer than Playwright's default before failing.
        page.set_default_timeout(60_000)
        await page.goto(f"{b.base_url}/ops/")
        # Signing in with empty fields: each says it is required, the first has the focus.
        await page.get_by_role("button", name="Sign in").click()
        for label, error in (("Username or e-mail", "#f-login-error"), ("Password", "#f-password-error")):
            await expect(page.get_by_label(label)).to_have_attribute("aria-invalid", "true")
            await expect(page.locator(error)).to_have_text("Required.")
        await expect(page.get_by_label("Username or e-mail")).to_be_focused()
        await page.get_by_label("Username or e-mail").fill(admin.username)
        await page.get_by_label("Password").fill(admin.password)
        await b.shot("ops-01-sign-in")
        await page.get_by_role("button", name="Sign in").click()

        # The overdue request comes first, then the newer one.
        rows = page.locator("#open-requests tbody tr")
        await expect(rows.first).to_have_attribute("data-request-id", overdue)
        await expect(rows.first).to_contain_text("Overdue by")
        await expect(rows.nth(1)).to_have_attribute("data-request-id", newer)
        await expect(rows.nth(1)).to_contain_text("days left")
        # A data table: its caption names it, columns and each row have their headers.
        open_table = page.get_by_role("table", name=re.compile(r"^Open privacy requests, overdue first"))
        await expect(open_table.get_by_role("columnheader").first).to_have_text("Request")
        await expect(rows.first.get_by_role("rowheader")).to_contain_text("Objection")
        await b.shot("ops-02-requests")

        # The mail server goes down (identity writes .eml files: the folder becomes a file).
        mail_dir, kept = b.data_dir / "mail", b.data_dir / "mail.kept"
        mail_dir.rename(kept)
        mail_dir.write_text("the mail server is down")

        await rows.first.get_by_role("button", name=re.compile(r"^Extend")).click()
        dialog = page.get_by_role("dialog")
        await dialog.get_by_label("Extra days").fill("30")
        # The service's problem is shown next to the field it concerns.
        reason = dialog.get_by_label("Reason (sent to the user)")
        await reason.fill("ok")
        await dialog.get_by_role("button", name="Extend deadline").click()
        await expect(reason).to_have_attribute("aria-invalid", "true")
        await expect(dialog.locator("#f-reason-error")).to_contain_text("at least 3 characters")
        await b.shot("ops-03-extend-problem")
        await reason.fill(REASON)
        await b.shot("ops-03-extend-dialog")
        await dialog.get_by_role("button", name="Extend deadline").click()
        await expect(dialog).to_have_count(0)
        extended = (await admin_http.get(f"/v1/ops/privacy/requests/{overdue}")).json()
        row = page.locator(f'#open-requests tbody tr[data-request-id="{overdue}"]')
        await expect(row.locator("td.due time")).to_have_attribute("datetime", extended["due_at"])
        await expect(row).to_contain_text(f"Extended: {REASON}")
        await expect(row).not_to_contain_text("Overdue")
        await expect(page.get_by_role("status")).to_contain_text("Deadline extended")

        # The user's mail about the extension fails its retries and is parked.
        async def parked_notifications() -> int:
            answer = await admin_http.get("/v1/ops/identity/dead-letters")
            if answer.status_code != 200:  # a busy shared database may refuse a connection
                print("dead letters:", answer.status_code, answer.text)
                return 0
            items = answer.json()["items"]
            return next(i["parked"] for i in items if i["consumer"] == "notifications")

        await eventually(parked_notifications, timeout=30)
        mail_dir.unlink()
        kept.rename(mail_dir)
        assert not [m for m in mails_to(b.data_dir, user.email) if "extended" in str(m["Subject"]).lower()]

        await page.get_by_role("link", name="Messages").click()
        dead = page.locator('#dead-letter-table tbody tr[data-consumer="identity.notifications"]')
        await expect(dead.locator("td.parked")).to_have_text("1")
        await expect(dead).to_contain_text("MailNotSent")
        await expect(page.locator("#outbox-table tbody tr")).to_have_count(5)
        await b.shot("ops-04-messages-parked")
        await dead.get_by_role("button", name=re.compile(r"^Replay")).click()
        await expect(dead.locator("td.parked")).to_have_text("0")
        await expect(page.locator("#parked-total")).to_have_text("No parked message.")
        await b.shot("ops-05-messages-replayed")
        mail = mail_text(await wait_for_mail(b.data_dir, user.email, "extended", within_s=20))
        assert REASON in mail

        # Every admin call is audited: the replay is in identity's security log.
        await page.get_by_role("link", name="Security log").click()
        entry = page.locator('#security-log-table tbody tr[data-event="admin_access"]', has_text=REPLAY_CALL)
        await expect(entry).to_have_count(1)
        # A user id that is not one is refused at the field; an empty one shows every user again.
        user_filter = page.get_by_label("User id")
        await user_filter.fill("someone")
        await page.get_by_role("button", name="Show", exact=True).click()
        await expect(user_filter).to_have_attribute("aria-invalid", "true")
        await expect(user_filter).to_be_focused()
        await expect(page.locator("#f-user_id-error")).to_have_text(
            "Enter a user id (a UUID), or leave the field empty."
        )
        await user_filter.fill("")
        await page.get_by_role("button", name="Show", exact=True).click()
        await expect(user_filter).not_to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#f-user_id-error")).to_have_text("")
        await expect(entry).to_have_count(1)
        await expect(entry).to_contain_text("Mozilla")  # the operator's browser, not the relay
        await b.shot("ops-06-security-log")

        # The other views load without a problem.
        for link, view, heading in (
            ("Sweeps", "sweeps", "Sweeps"),
            ("Generation", "generation", "Generation"),
            ("Billing", "billing", "Billing"),
            ("Minor reports", "minors", "Minor reports"),
        ):
            await page.get_by_role("link", name=link, exact=True).click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
            await expect(page.locator("main [aria-busy]")).to_have_count(0)
            await expect(page.locator("main .alert")).to_have_count(0)
            await b.shot(f"ops-07-{view}")

        # The erasure progress and certificate panel of a request.
        await page.get_by_role("link", name="Privacy requests").click()
        request_id = page.get_by_label("Request id")
        await request_id.fill(overdue[:8])
        await page.get_by_role("button", name="Show request").click()
        await expect(request_id).to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#f-request_id-error")).to_have_text(
            "Enter the request's full id (a UUID)."
        )
        await request_id.fill(overdue)
        await page.get_by_role("button", name="Show request").click()
        await expect(page.locator("#request-detail")).to_contain_text("Only erasures are certified.")
        await expect(request_id).not_to_have_attribute("aria-invalid", "true")
        await expect(page.locator("#f-request_id-error")).to_have_text("")
        await b.shot("ops-08-request-detail")

        # Someone without the admin role is turned away.
        await page.get_by_role("button", name="Sign out").click()
        await page.get_by_label("Username or e-mail").fill(user.username)
        await page.get_by_label("Password").fill(user.password)
        await page.get_by_role("button", name="Sign in").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Admin role required")
        await b.shot("ops-09-admin-required")
