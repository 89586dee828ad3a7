"""A policy version published ahead of its effective date (§9): until then nothing changes but
the notice mail; from then on it is in force everywhere, without anyone publishing again."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import psycopg
from aiflux_identity.testing import mail_text, register, wait_for_mail

INITIAL = "2026-05-09"
NEXT = "2026-12-08"
TEXT = "Privacy Policy, version of 8 December 2026: we now also ..."


def _let_time_pass(db_urls: dict[str, str], since_switch: str) -> None:
    """As if the scheduled version had taken effect ``since_switch`` ago (an interval)."""
    for service, table in (("privacy", "policy_version"), ("identity", "policy_versions")):
        url = db_urls[service].replace("+psycopg", "")
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(
                f"UPDATE {table} SET effective_at = now() - %s::interval WHERE version = %s",
                (since_switch, NEXT),
            )


async def _register(client, version: str):  # type: ignore[no-untyped-def]
    name = f"u_{uuid.uuid4().hex[:10]}"
    return await register(
        client,
        username=name,
        email=f"{name}@example.com",
        password="a long enough password",
        policy_version=version,
    )


async def test_a_scheduled_version_takes_effect_at_its_time(stack_factory, people, as_system):
    async with (
        stack_factory(services=["identity", "privacy"]) as stack,
        people(as_system(stack)) as new_person,
    ):
        system = as_system(stack)
        admin = await new_person(admin=True)
        early = await new_person()
        effective = datetime.now(UTC) + timedelta(days=7)
        published = await admin.client.post(
            "/v1/ops/privacy/policy/versions",
            headers=admin.headers,
            json={"version": NEXT, "substantial": True, "text": TEXT, "effective_at": effective.isoformat()},
        )
        assert published.status_code == 201, published.text
        assert published.json()["status"] == "scheduled"

        # Before its date: the notice mail goes out, nothing else changes.
        notice = await wait_for_mail(stack.data_dir, early.signed.email, "privacy policy", within_s=30)
        assert NEXT in mail_text(notice)
        assert effective.strftime("%-d %B %Y") in mail_text(notice)
        policy = (await stack.client.get("/v1/privacy/policy")).json()
        assert policy["version"] == INITIAL
        versions = {
            v["version"]: v["status"]
            for v in (await stack.client.get("/v1/privacy/policy/versions")).json()["items"]
        }
        assert versions == {NEXT: "scheduled", INITIAL: "in_force"}
        still = await early.client.patch(
            "/v1/account", headers=early.headers, json={"current_password": early.signed.password}
        )
        assert still.status_code == 200, still.text
        assert (await _register(stack.client, INITIAL)).status_code == 202
        assert (await _register(stack.client, NEXT)).status_code == 202  # accepted ahead

        _let_time_pass(system.db_urls, "1 minute")
        # A cached session answer lasts until the next scheduled switch, which the edit above
        # moved without the clock: forget, as the switch itself would have made the cache do.
        stack.unit("identity").session_verifier.cache.clear()

        # From its date on: in force, re-acceptance required, registration needs it.
        assert (await stack.client.get("/v1/privacy/policy")).json()["version"] == NEXT
        versions = {
            v["version"]: v["status"]
            for v in (await stack.client.get("/v1/privacy/policy/versions")).json()["items"]
        }
        assert versions == {NEXT: "in_force", INITIAL: "superseded"}
        blocked = await early.client.patch(
            "/v1/account", headers=early.headers, json={"current_password": early.signed.password}
        )
        assert blocked.status_code == 403
        assert blocked.json()["type"].endswith("policy-acceptance-required")
        accepted = await early.client.post(
            "/v1/account/policy-acceptance", headers=early.headers, json={"version": NEXT}
        )
        assert accepted.status_code == 200, accepted.text
        again = await early.client.patch(
            "/v1/account", headers=early.headers, json={"current_password": early.signed.password}
        )
        assert again.status_code == 200
        assert (await _register(stack.client, NEXT)).status_code == 202
        # A form loaded just before the switch still registers, and accepts on first use.
        assert (await _register(stack.client, INITIAL)).status_code == 202
        late = await new_person()  # the helper submits the initial version first
        first_use = await late.client.patch(
            "/v1/account", headers=late.headers, json={"current_password": late.signed.password}
        )
        assert first_use.status_code == 403
        assert first_use.json()["type"].endswith("policy-acceptance-required")

        _let_time_pass(system.db_urls, "2 hours")  # past the switch grace
        stale = await _register(stack.client, INITIAL)
        assert stale.status_code == 422 and stale.json()["current_version"] == NEXT


async def test_an_effective_date_in_the_past_is_refused(stack_factory, people, as_system):
    async with (
        stack_factory(services=["identity", "privacy"]) as stack,
        people(as_system(stack)) as new_person,
    ):
        admin = await new_person(admin=True)
        for effective_at in (
            (datetime.now(UTC) - timedelta(days=1)).isoformat(),
            "2030-01-01T00:00:00",
        ):  # no time zone: ambiguous
            refused = await admin.client.post(
                "/v1/ops/privacy/policy/versions",
                headers=admin.headers,
                json={"version": NEXT, "substantial": True, "text": TEXT, "effective_at": effective_at},
            )
            assert refused.status_code == 422, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
        assert (await stack.client.get("/v1/privacy/policy")).json()["version"] == INITIAL
        versions = (await stack.client.get("/v1/privacy/policy/versions")).json()["items"]
        assert [v["version"] for v in versions] == [INITIAL]
