"""Consent ledger (anonymous cookie linked at registration) and consent-bound marketing."""

from __future__ import annotations

import uuid
from datetime import date
from urllib.parse import urlsplit

from aiflux_contracts import ConsentChanged, UserNotificationRequested, UserRegistered


def registered(user_id: uuid.UUID, marketing: bool, cookie: uuid.UUID | None = None):
    return UserRegistered(
        user_id=user_id,
        accepted_policy_version="2026-05-09",
        marketing_opt_in=marketing,
        age_confirmed_on=date(2026, 11, 1),
        anonymous_consent_id=cookie,
    )


async def test_analytics_is_off_until_consent_and_follows_the_visitor_into_the_account(privacy, wait):
    client = privacy.client
    first = (await client.get("/v1/privacy/consents")).json()
    assert first["analytics_allowed"] is False and first["subject_kind"] == "anonymous"

    granted = await client.put("/v1/privacy/consents/analytics", json={"granted": True})
    assert granted.status_code == 200 and granted.json()["analytics_allowed"] is True
    cookie = uuid.UUID(client.cookies["aiflux_consent_id"])
    assert (await client.get("/v1/privacy/consents")).json()["analytics_allowed"] is True

    unknown = await client.put("/v1/privacy/consents/telepathy", json={"granted": True})
    assert unknown.status_code == 404
    assert unknown.headers["content-type"] == "application/problem+json"

    user_id, headers = privacy.user()
    await privacy.publish(registered(user_id, marketing=False, cookie=cookie))

    async def linked():
        body = (await client.get("/v1/privacy/consents", headers=headers)).json()
        return body if body["accepted_policy_version"] else None

    state = await wait(linked)
    assert state["subject_kind"] == "user"
    assert state["analytics_allowed"] is True
    assert state["consents"]["marketing"]["granted"] is False

    # Withdrawing is as easy as granting.
    withdrawn = await client.put("/v1/privacy/consents/analytics", json={"granted": False}, headers=headers)
    assert withdrawn.json()["analytics_allowed"] is False
    changes = await privacy.published(ConsentChanged)
    assert {
        "subject_id": str(user_id),
        "subject_kind": "user",
        "purpose": "analytics",
        "granted": False,
    } in changes

    # A later visit from another browser: its choice is linked at the next sign-in.
    client.cookies.clear()
    await client.put("/v1/privacy/consents/marketing", json={"granted": True})
    linked_now = await client.post("/v1/privacy/consents/link", headers=headers)
    assert linked_now.status_code == 200 and linked_now.json()["linked_purposes"] == 1
    assert linked_now.json()["consents"]["marketing"]["granted"] is True
    client.cookies.clear()
    no_cookie = await client.post("/v1/privacy/consents/link", headers=headers)
    assert no_cookie.status_code == 422


async def test_marketing_reaches_only_consenting_users_and_its_link_withdraws(privacy, wait):
    client, admin = privacy.client, privacy.admin()
    keen, _ = privacy.user()
    declined, _ = privacy.user()
    changed_mind, changed_headers = privacy.user()
    restricted, restricted_headers = privacy.user()
    for user_id, opt_in in ((keen, True), (declined, False), (changed_mind, True), (restricted, True)):
        await privacy.publish(registered(user_id, marketing=opt_in))

    async def all_recorded():
        return len(await privacy.published(ConsentChanged)) >= 8

    # Restricted processing (Art. 18) stops marketing too, consent or not.
    assert (
        await client.post("/v1/privacy/requests", json={"type": "restriction"}, headers=restricted_headers)
    ).status_code == 202

    await wait(all_recorded)
    off = await client.put("/v1/privacy/consents/marketing", json={"granted": False}, headers=changed_headers)
    assert off.status_code == 200

    forbidden = await client.post(
        "/v1/ops/privacy/marketing/campaigns",
        json={"subject": "News", "body": "Hello"},
        headers=changed_headers,
    )
    assert forbidden.status_code == 403
    sent = await client.post(
        "/v1/ops/privacy/marketing/campaigns", json={"subject": "News", "body": "Hello"}, headers=admin
    )
    assert sent.status_code == 202 and sent.json()["recipients"] == 1
    mails = [m for m in await privacy.published(UserNotificationRequested) if m["template"] == "marketing"]
    assert [m["user_id"] for m in mails] == [str(keen)]

    link = urlsplit(mails[0]["params"]["withdraw_url"])
    tampered = await client.post(f"{link.path}?user={keen}&sig={'0' * 64}")
    assert tampered.status_code == 403
    page = await client.get(f"{link.path}?{link.query}")  # opening the link changes nothing
    assert page.status_code == 200 and "<form method='post'" in page.text
    still = await client.post(
        "/v1/ops/privacy/marketing/campaigns", json={"subject": "Still there?", "body": "Hi"}, headers=admin
    )
    assert still.json()["recipients"] == 1
    clicked = await client.post(f"{link.path}?{link.query}")  # no session: one click
    assert clicked.status_code == 200 and clicked.json()["changed"] is True

    again = await client.post(
        "/v1/ops/privacy/marketing/campaigns", json={"subject": "More news", "body": "Hi"}, headers=admin
    )
    assert again.json()["recipients"] == 0
