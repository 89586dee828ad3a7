"""Anonymous consent ids are privacy's own: a client cannot claim, forge, link or erase another
subject's consents by presenting that subject's id (regression of the consent-forgery finding)."""

from __future__ import annotations

import uuid
from datetime import date

import httpx
import pytest
from aiflux_contracts import UserDeleted, UserRegistered
from aiflux_privacy.domain.consent_id import (
    is_issued_consent_id,
    issue_consent_id,
    parse_consent_id,
)
from aiflux_privacy.settings import PrivacySettings
from pydantic import ValidationError

COOKIE = "aiflux_consent_id"


def registered(user_id: uuid.UUID, anonymous: uuid.UUID | None = None) -> UserRegistered:
    return UserRegistered(
        user_id=user_id,
        accepted_policy_version="2026-05-09",
        marketing_opt_in=False,
        age_confirmed_on=date(2026, 1, 1),
        anonymous_consent_id=anonymous,
    )


def test_only_ids_signed_with_the_key_are_issued_ids():
    issued = issue_consent_id("key")
    assert is_issued_consent_id(issued, "key")
    assert parse_consent_id(str(issued), "key") == issued
    assert issue_consent_id("key") != issued
    assert not is_issued_consent_id(issued, "another key")
    assert not is_issued_consent_id(uuid.uuid4(), "key")  # e.g. a user id
    tampered = uuid.UUID(bytes=issued.bytes[:8] + bytes(8))
    assert not is_issued_consent_id(tampered, "key")
    for raw in (None, "", "not-a-uuid", str(uuid.uuid4()), f"{issued}x"):
        assert parse_consent_id(raw, "key") is None


def test_production_refuses_a_placeholder_consent_id_secret_and_local_runs_derive_one():
    real = {
        "service_key": "k" * 32,
        "pseudonym_pepper": "p" * 32,
        "link_secret": "l" * 32,
        "amqp_url": "amqp://privacy:from-the-vault@rabbit:5672/aiflux",
    }
    with pytest.raises(ValidationError, match="consent_id_secret"):
        PrivacySettings(env="production", **real)
    configured = PrivacySettings(env="production", consent_id_secret="c" * 32, **real)
    assert configured.secret("consent_id_secret") == "c" * 32
    local = PrivacySettings(env="dev", **real)
    derived = local.secret("consent_id_secret")
    assert derived not in ("change-me", local.secret("link_secret"))


async def _registered_user(privacy, wait) -> tuple[uuid.UUID, dict[str, str]]:
    user_id, headers = privacy.user()
    await privacy.publish(registered(user_id))

    async def recorded():
        body = (await privacy.client.get("/v1/privacy/consents", headers=headers)).json()
        return body if body["accepted_policy_version"] else None

    state = await wait(recorded)
    assert state["analytics_allowed"] is False
    return user_id, headers


async def _records(privacy, subject: uuid.UUID) -> list[tuple[str, str, bool]]:
    rows = await privacy.sql(
        "SELECT subject_kind, purpose, granted FROM consent_record WHERE subject_id = :s ORDER BY id",
        s=subject,
    )
    return [tuple(r) for r in rows]


async def test_a_cookie_holding_another_users_id_neither_reads_nor_forges_their_consents(privacy, wait):
    victim, victim_headers = await _registered_user(privacy, wait)
    before = await _records(privacy, victim)

    async with httpx.AsyncClient(base_url=str(privacy.client.base_url)) as attacker:
        for forged in (victim, uuid.uuid4()):  # another user's id, or any made-up id
            attacker.cookies.clear()
            attacker.cookies.set(COOKIE, str(forged))
            read = (await attacker.get("/v1/privacy/consents")).json()
            assert read["accepted_policy_version"] is None
            put = await attacker.put("/v1/privacy/consents/analytics", json={"granted": True})
            assert put.status_code == 200
            assert put.json()["accepted_policy_version"] is None  # not the victim's state
            fresh = put.cookies[COOKIE]  # treated as a new visitor: a fresh id of privacy's own
            assert uuid.UUID(fresh) not in (victim, forged)
            attacker.cookies.clear()
            attacker.cookies.set(COOKIE, str(forged))
            refused = await attacker.post("/v1/privacy/consents/link", headers=victim_headers)
            assert refused.status_code == 422

    assert await _records(privacy, victim) == before
    state = (await privacy.client.get("/v1/privacy/consents", headers=victim_headers)).json()
    assert state["analytics_allowed"] is False


async def test_records_of_another_kind_under_a_users_id_are_not_the_users(privacy, wait):
    """Anonymous records that share a user's id (as the forgery could leave them) are neither
    the user's state, nor in the user's export, nor erased with the user."""
    victim, victim_headers = await _registered_user(privacy, wait)
    await privacy.sql(
        "INSERT INTO consent_record (subject_id, subject_kind, purpose, granted,"
        " source) VALUES (:s, 'anonymous', 'analytics', true, 'cookie-banner')",
        s=victim,
    )
    state = (await privacy.client.get("/v1/privacy/consents", headers=victim_headers)).json()
    assert state["analytics_allowed"] is False

    # A user who linked that id (it has user records, and privacy never issued it) gets none
    # of it, and erasing that user leaves the victim's records alone.
    attacker, _ = privacy.user()
    await privacy.publish(registered(attacker, anonymous=victim))
    await wait(lambda: _records(privacy, attacker))
    assert await privacy.sql("SELECT * FROM consent_link WHERE anonymous_id = :v", v=victim) == []
    victim_records = await _records(privacy, victim)
    assert ("anonymous", "analytics", True) in victim_records

    await privacy.publish(UserDeleted(user_id=attacker, request_id=uuid.uuid4(), reason="user_request"))

    async def attacker_erased():
        return not await _records(privacy, attacker)

    await wait(attacker_erased)
    assert await _records(privacy, victim) == victim_records


async def test_registration_links_only_an_issued_unlinked_anonymous_id(privacy, wait):
    client = privacy.client
    client.cookies.clear()
    assert (await client.put("/v1/privacy/consents/analytics", json={"granted": True})).status_code == 200
    cookie = uuid.UUID(client.cookies[COOKIE])
    victim, victim_headers = await _registered_user(privacy, wait)

    # Registering with a made-up id or another user's id links nothing.
    for stolen in (victim, uuid.uuid4()):
        thief, _ = privacy.user()
        await privacy.publish(registered(thief, anonymous=stolen))
        await wait(lambda thief=thief: _records(privacy, thief))
        assert await privacy.sql("SELECT * FROM consent_link WHERE user_id = :t", t=thief) == []

    owner, owner_headers = privacy.user()
    await privacy.publish(registered(owner, anonymous=cookie))

    async def linked():
        body = (await client.get("/v1/privacy/consents", headers=owner_headers)).json()
        return body if body["analytics_allowed"] else None

    await wait(linked)
    # Once linked, the id is the owner's: nobody else takes it over.
    late, late_headers = privacy.user()
    await privacy.publish(registered(late, anonymous=cookie))
    await wait(lambda: _records(privacy, late))
    again = await client.post("/v1/privacy/consents/link", headers=late_headers)
    assert again.status_code == 200 and again.json()["linked_purposes"] == 0
    assert again.json()["analytics_allowed"] is False
    links = await privacy.sql("SELECT user_id FROM consent_link WHERE anonymous_id = :c", c=cookie)
    assert [r.user_id for r in links] == [owner]
    state = (await client.get("/v1/privacy/consents", headers=victim_headers)).json()
    assert state["analytics_allowed"] is False
