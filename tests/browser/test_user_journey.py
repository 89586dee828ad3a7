"""A person's whole journey through the web client, in a real Chromium on the whole system.

A visitor declines analytics, signs up (meeting a taken username and the age gate first), opens
the verification link from the mail, buys a pack on the simulated checkout, uploads a reference
image, generates with the local provider and sees the result appear without a reload, repeats
and deletes it, exports their data and downloads the archive, deletes the account and watches
the erasure complete after being logged out. Every page is photographed.
"""

from __future__ import annotations

import asyncio
import re
import uuid
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiflux_identity.commands import set_admin
from aiflux_identity.testing import (
    DEFAULT_PASSWORD,
    mail_text,
    register,
    register_and_login,
    wait_for_mail,
)
from aiflux_kit.testing import eventually
from PIL import Image
from playwright.async_api import Page, expect

pytestmark = pytest.mark.slow  # the whole system and a browser, one long journey
SERVICES = ("identity", "billing", "generation", "storage", "privacy")
PROMPT = "a lighthouse drawn in coloured pencil"
WAIT_MS = 20_000  # a shared 2-core machine: patience, not a speed claim
LINK = re.compile(r"https?://\S+/verify-email\?token=[A-Za-z0-9_\-]+")


def reference_png(tmp_path: Path) -> Path:
    """A small real PNG to upload."""
    path = tmp_path / "reference.png"
    Image.new("RGB", (32, 32), (40, 120, 200)).save(path, format="PNG")
    return path


async def heading(page: Page, text: str) -> None:
    await expect(page.get_by_role("heading", level=1)).to_have_text(text)


async def shown_image(page: Page, selector: str) -> None:
    """The first ``selector`` image has loaded real pixels (not a broken-image icon)."""
    await page.wait_for_function(
        "(s) => { const i = document.querySelector(s); return i && i.complete && i.naturalWidth > 0; }",
        arg=selector,
        timeout=WAIT_MS,
    )


async def signup_refusals(page: Page, taken: str) -> None:
    """Problems from the API land next to the field they concern."""
    await page.get_by_label("Username").fill(taken)
    await page.get_by_label("E-mail address").fill(f"{uuid.uuid4().hex[:8]}@example.com")
    await page.get_by_label("Password").fill(DEFAULT_PASSWORD)
    await page.get_by_label("Date of birth").fill("2020-05-01")
    await page.locator("#f-accept_privacy_policy_version").check()
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("#f-birth_date-error")).to_contain_text("under 16")
    await expect(page.get_by_label("Date of birth")).to_have_attribute("aria-invalid", "true")

    await page.get_by_label("Date of birth").fill("2000-05-01")
    await page.get_by_role("button", name="Create account").click()
    await expect(page.locator("#f-username-error")).to_contain_text("already taken")


async def test_a_visitor_becomes_a_customer_and_leaves(browsing: Any, tmp_path: Path) -> None:
    expect.set_options(timeout=WAIT_MS)
    try:
        await journey(browsing, tmp_path)
    finally:
        expect.set_options(timeout=5_000)


async def journey(browsing: Any, tmp_path: Path) -> None:
    async with browsing() as b:
        page: Page = b.page
        taken = f"taken_{uuid.uuid4().hex[:8]}"
        assert (
            await register(
                b.stack.client, username=taken, email=f"{taken}@example.com", password=DEFAULT_PASSWORD
            )
        ).status_code == 202

        # A visitor: the banner asks first; the keyboard focus is visible.
        await page.goto(b.base_url + "/", timeout=60_000)
        await heading(page, "Images, video and speech from a prompt")
        banner = page.locator("#consent-banner")
        await expect(banner).to_be_visible()
        await b.shot("01-home-consent-banner")
        await page.keyboard.press("Tab")
        focused = await page.evaluate(
            "() => [document.activeElement.tagName, document.activeElement.matches(':focus-visible')]"
        )
        assert focused == ["A", True]
        await banner.get_by_role("button", name="Decline analytics").click()
        await expect(banner).to_have_count(0)
        consent = await page.evaluate("() => fetch('/v1/privacy/consents').then((r) => r.json())")
        assert consent["analytics_allowed"] is False
        assert consent["consents"]["analytics"]["recorded_at"]

        # Sign-up: refusals next to their field, then an account.
        await page.get_by_role("link", name="Sign up").click()
        await heading(page, "Sign up")
        await signup_refusals(page, taken)
        await b.shot("02-signup-problem")
        username = f"web_{uuid.uuid4().hex[:8]}"
        email = f"{username}@example.com"
        await page.get_by_label("Username").fill(username)
        await page.get_by_label("E-mail address").fill(email)
        await page.get_by_role("button", name="Create account").click()
        await heading(page, "Check your mail")
        await b.shot("03-signup-check-mail")

        # The mailed link: the page posts its token and the address bar forgets it.
        link = LINK.search(mail_text(await wait_for_mail(b.data_dir, email, "verify")))
        assert link, "the verification mail carries no link"
        await page.goto(link.group(0), timeout=60_000)
        await heading(page, "E-mail address verified")
        assert "token" not in page.url and page.url.endswith("/verify-email")
        await b.shot("04-email-verified")

        await page.get_by_role("link", name="Log in").first.click()
        await heading(page, "Log in")
        await page.get_by_label("Username or e-mail").fill(username)
        await page.get_by_label("Password").fill(DEFAULT_PASSWORD)
        await b.shot("05-login")
        await page.get_by_role("button", name="Log in").click()
        await heading(page, f"Welcome, {username}")
        await b.shot("06-home-signed-in")
        await reaccept_policy(b, page, email)

        # Credits: a pack on the simulated checkout, back to the success page.
        await page.get_by_role("navigation", name="Main").get_by_role("link", name="Credits").click()
        await heading(page, "Credits and billing")
        await b.shot("07-billing")
        await page.get_by_role("button", name=re.compile(r"^Buy ")).first.click()
        await page.get_by_role("button", name="Pay").click()
        await heading(page, "Thank you for your purchase")
        await expect(page.locator("#payment-state")).to_contain_text("credits added", timeout=20_000)
        await b.shot("08-billing-success")

        await account_pages(b, page, username, tmp_path)
        await generate_repeat_delete(b, page, tmp_path)
        await export_and_download(b, page, tmp_path)
        await delete_account(b, page)


async def reaccept_policy(b: Any, page: Page, email: str) -> None:
    """A new version in force: the client asks for re-acceptance until it is given."""
    admin = await register_and_login(b.stack.client, b.data_dir)
    identity_db = b.stack.unit("identity").settings.database_url
    assert await asyncio.to_thread(set_admin, identity_db, admin.username, True)
    version = f"2099-01-{uuid.uuid4().int % 28 + 1:02d}"
    published = await b.stack.client.post(
        "/v1/ops/privacy/policy/versions",
        headers=admin.headers,
        json={"version": version, "substantial": True, "text": "The policy, clearer.\n"},
    )
    assert published.status_code == 201, published.text
    await wait_for_mail(b.data_dir, email, "privacy policy", within_s=30)  # identity knows it

    await page.reload()
    notice = page.get_by_role("region", name="Privacy policy update")
    await expect(notice).to_contain_text(version)
    await notice.get_by_role("link", name="Review and accept it").click()
    await heading(page, "Privacy centre")
    await b.shot("06b-privacy-reaccept")
    await page.get_by_role("button", name=f"Accept version {version}").click()
    await expect(page.get_by_text(f"You accepted version {version}")).to_be_visible()
    await expect(page.get_by_role("button", name=f"Accept version {version}")).to_have_count(0)
    await page.get_by_role("link", name="AIFLUX", exact=True).click()
    await expect(notice).to_have_count(0)


async def account_pages(b: Any, page: Page, username: str, tmp_path: Path) -> None:
    await page.get_by_role("link", name="Models").first.click()
    await heading(page, "Models and prices")
    await expect(page.get_by_role("cell", name="local-image")).to_be_visible()
    await b.shot("09-models")

    # No file yet: a line says so (no empty table); an uploaded file can be deleted again.
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    await heading(page, "Your files")
    await expect(page.get_by_text("No files yet.")).to_be_visible()
    await expect(page.get_by_role("table")).to_have_count(0)
    await page.locator("#f-file").set_input_files(str(reference_png(tmp_path)))
    await page.get_by_role("button", name="Upload").click()
    stored = page.get_by_role("row").filter(has=page.get_by_role("cell", name="image/png"))
    await expect(stored).to_have_count(1)
    await stored.get_by_role("button", name=re.compile(r"^Delete the file uploaded")).click()
    await expect(page.get_by_role("status").filter(has_text="File deleted.")).to_have_count(1)
    await expect(page.get_by_text("No files yet.")).to_be_visible()

    # A second session (another device) is listed and can be revoked from here.
    async with httpx.AsyncClient(base_url=b.base_url, timeout=30) as other_device:
        login = await other_device.post(
            "/v1/auth/login", json={"login": username, "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200, login.text
        await page.locator("header .who a").first.click()
        await heading(page, "Your account")
        sessions = page.get_by_role("table", name="Where you are signed in")
        await expect(sessions.get_by_role("columnheader")).to_have_text(
            ["Browser", "IP address", "Signed in", "Last seen", "Action"]
        )
        await expect(sessions.get_by_role("cell", name="This browser")).to_be_visible()
        await expect(sessions.locator("tbody tr")).to_have_count(2)
        await b.shot("10-account")
        other = sessions.locator("tbody tr").filter(has_not_text="This browser")
        await other.get_by_role("button", name=re.compile(r"^Revoke the session started")).click()
        await expect(page.get_by_role("status").filter(has_text="Session revoked.")).to_have_count(1)
        await expect(sessions.locator("tbody tr")).to_have_count(1)

        async def signed_out() -> bool:
            return (await other_device.get("/v1/account")).status_code == 401

        await eventually(signed_out, timeout=20)


async def generate_repeat_delete(b: Any, page: Page, tmp_path: Path) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Generate").click()
    await heading(page, "Generate")
    await page.locator("#f-file").set_input_files(str(reference_png(tmp_path)))
    await page.get_by_role("button", name="Upload").click()
    await expect(page.locator("#upload-state")).to_contain_text("Uploaded")
    await page.get_by_label("Model").select_option("local-image")
    await expect(page.locator("input[name=input_file_ids]")).to_have_count(1)
    await page.locator("input[name=input_file_ids]").check()
    await page.get_by_label("Prompt").fill(PROMPT)
    # The result must appear on this very page: a reload would lose the marker.
    await page.evaluate("() => { window.__noReload = true; }")
    await page.get_by_role("button", name="Generate").click()
    card = page.locator("#live-results article.generation")
    await expect(card).to_have_count(1)
    await expect(card.first).to_have_attribute("data-status", "completed", timeout=60_000)
    await shown_image(page, "#live-results article.generation img")
    assert await page.evaluate("() => window.__noReload === true")
    await b.shot("11-generate-completed")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Gallery").click()
    await heading(page, "Gallery")
    cards = page.locator("#gallery article.generation")
    await expect(cards).to_have_count(1)
    await cards.first.get_by_role("button", name=re.compile("^Repeat")).click()
    await expect(cards).to_have_count(2)
    await expect(cards.first).to_have_attribute("data-status", "completed", timeout=60_000)
    await shown_image(page, "#gallery article.generation img")
    await b.shot("12-gallery-repeated")
    await cards.first.get_by_role("button", name=re.compile("^Delete")).click()
    await expect(cards).to_have_count(1)
    await page.reload()
    await heading(page, "Gallery")
    await expect(cards).to_have_count(1)
    await b.shot("13-gallery-after-delete")

    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Files").click()
    await heading(page, "Your files")
    await b.shot("14-files")


async def export_and_download(b: Any, page: Page, tmp_path: Path) -> None:
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Privacy").click()
    await heading(page, "Privacy centre")
    await b.shot("15-privacy-centre")
    await page.get_by_label("What do you ask for?").select_option("access")
    await page.get_by_role("button", name="Send the request").click()
    await heading(page, "Your access request")
    download_link = page.get_by_role("link", name="Download your data (ZIP)")
    await expect(download_link).to_be_visible(timeout=45_000)
    await b.shot("16-export-ready")
    async with page.expect_download() as info:
        await download_link.click()
    archive = tmp_path / "export.zip"
    await (await info.value).save_as(archive)
    assert zipfile.is_zipfile(archive)
    with zipfile.ZipFile(archive) as zipped:
        names = set(zipped.namelist())
        assert {f"data/{service}.json" for service in SERVICES} | {"manifest.json"} <= names, names
        assert PROMPT in zipped.read("data/generation.json").decode()
        assert any(name.startswith("files/uploads/") for name in names), names


async def delete_account(b: Any, page: Page) -> None:
    await page.get_by_role("link", name="All your requests").click()
    await heading(page, "Privacy centre")
    await expect(page.get_by_role("cell", name="completed")).to_be_visible()
    await page.locator("#f-delete-password").fill(DEFAULT_PASSWORD)
    await page.get_by_role("button", name="Delete my account").click()
    await heading(page, "Account deletion in progress")
    # Logged out: the page follows the erasure with its status link alone.
    status = await page.evaluate("() => fetch('/v1/account').then((r) => r.status)")
    assert status == 401
    await expect(page.get_by_role("link", name="Log in")).to_be_visible()
    await expect(page.locator("#erasure-state")).to_have_attribute("data-status", "completed", timeout=90_000)
    await expect(page.locator("#erasure-state")).to_contain_text("Erasure complete")
    await expect(page.locator("#progress li")).to_have_count(len(SERVICES))
    await b.shot("17-erasure-complete")
    # The address still works in a fresh tab of a browser without a session.
    other = await b.new_page()
    await other.goto(page.url, timeout=60_000)
    await expect(other.locator("#erasure-state")).to_have_attribute("data-status", "completed")
