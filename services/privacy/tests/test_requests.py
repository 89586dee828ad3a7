"""Requests of §7: restriction and its lifting, ops decisions, deadlines and their extension,
and policy publication."""

from __future__ import annotations

from datetime import datetime, timedelta

from aiflux_contracts import PolicyPublished, ProcessingRestricted, UserNotificationRequested


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


async def test_restriction_takes_effect_at_once_and_is_lifted_by_ops(privacy):
    client, admin = privacy.client, privacy.admin()
    user_id, headers = privacy.user()
    filed = await client.post("/v1/privacy/requests", json={"type": "restriction"}, headers=headers)
    assert filed.status_code == 202 and filed.json()["status"] == "in_effect"
    assert await privacy.published(ProcessingRestricted) == [{"user_id": str(user_id), "restricted": True}]
    twice = await client.post("/v1/privacy/requests", json={"type": "restriction"}, headers=headers)
    assert twice.status_code == 409

    request_id = filed.json()["id"]
    lifted = await client.post(
        f"/v1/ops/privacy/requests/{request_id}/lift-restriction",
        json={"reason": "accuracy confirmed"},
        headers=admin,
    )
    assert lifted.status_code == 200 and lifted.json()["status"] == "lifted"
    assert (await privacy.published(ProcessingRestricted))[-1] == {
        "user_id": str(user_id),
        "restricted": False,
    }
    shown = (await client.get(f"/v1/privacy/requests/{request_id}", headers=headers)).json()
    assert shown["answer"] == "accuracy confirmed"


async def test_objection_is_decided_by_ops_and_answered(privacy):
    client, admin = privacy.client, privacy.admin()
    user_id, headers = privacy.user()
    empty = await client.post("/v1/privacy/requests", json={"type": "objection"}, headers=headers)
    assert empty.status_code == 422
    filed = await client.post(
        "/v1/privacy/requests",
        json={"type": "objection", "details": "no security profiling"},
        headers=headers,
    )
    request_id = filed.json()["id"]
    decided = await client.post(
        f"/v1/ops/privacy/requests/{request_id}/decision",
        json={"granted": False, "answer": "needed against fraud"},
        headers=admin,
    )
    assert decided.json()["status"] == "rejected"
    again = await client.post(
        f"/v1/ops/privacy/requests/{request_id}/decision",
        json={"granted": True, "answer": "changed"},
        headers=admin,
    )
    assert again.status_code == 409
    notes = await privacy.published(UserNotificationRequested)
    assert notes[-1]["user_id"] == str(user_id)
    assert notes[-1]["params"]["answer"] == "needed against fraud"


async def test_deadline_is_30_days_extendable_once_and_overdue_requests_come_first(privacy):
    client, admin = privacy.client, privacy.admin()
    _, headers = privacy.user()
    filed = (
        await client.post(
            "/v1/privacy/requests",
            json={"type": "rectification", "details": "wrong plan shown"},
            headers=headers,
        )
    ).json()
    listed = (await client.get(f"/v1/privacy/requests/{filed['id']}", headers=headers)).json()
    assert _at(listed["due_at"]) - _at(listed["received_at"]) == timedelta(days=30)

    too_long = await client.post(
        f"/v1/ops/privacy/requests/{filed['id']}/extension",
        json={"days": 70, "reason": "complex"},
        headers=admin,
    )
    assert too_long.status_code == 422
    extended = await client.post(
        f"/v1/ops/privacy/requests/{filed['id']}/extension",
        json={"days": 45, "reason": "records held by Stripe"},
        headers=admin,
    )
    assert extended.status_code == 200
    assert _at(extended.json()["due_at"]) - _at(listed["due_at"]) == timedelta(days=45)
    once_more = await client.post(
        f"/v1/ops/privacy/requests/{filed['id']}/extension",
        json={"days": 5, "reason": "again"},
        headers=admin,
    )
    assert once_more.status_code == 409
    told = (await privacy.published(UserNotificationRequested))[-1]
    assert told["params"]["event"] == "deadline_extended"
    assert told["params"]["reason"] == "records held by Stripe"
    mine = (await client.get(f"/v1/privacy/requests/{filed['id']}", headers=headers)).json()
    assert mine["extended"] is True and mine["extension_reason"] == "records held by Stripe"

    _, other_headers = privacy.user()
    late = (
        await client.post(
            "/v1/privacy/requests", json={"type": "objection", "details": "stop it"}, headers=other_headers
        )
    ).json()
    await privacy.sql(
        "UPDATE privacy_request SET received_at = now() - interval '33 days',"
        " due_at = now() - interval '3 days' WHERE id = :id",
        id=late["id"],
    )
    queue = (await client.get("/v1/ops/privacy/requests", headers=admin)).json()["items"]
    assert [q["id"] for q in queue] == [late["id"], filed["id"]]
    assert queue[0]["overdue"] is True and queue[0]["days_left"] < 0
    assert queue[1]["overdue"] is False and queue[1]["days_left"] > 30

    swept = await privacy.stack.runtime.run_sweep("privacy", "request-deadlines")
    assert swept.counts["overdue"] == 1


async def test_publishing_a_policy_version_notifies_users(privacy):
    client, admin = privacy.client, privacy.admin()
    _, user_headers = privacy.user()
    body = {
        "version": "2026-12-01",
        "substantial": True,
        "text": "Privacy Policy. Last updated: 1 December 2026. We now also ...",
    }
    refused = await client.post("/v1/ops/privacy/policy/versions", json=body, headers=user_headers)
    assert refused.status_code == 403
    published = await client.post("/v1/ops/privacy/policy/versions", json=body, headers=admin)
    assert published.status_code == 201
    [event] = await privacy.published(PolicyPublished)
    assert event["version"] == "2026-12-01" and event["substantial"] is True
    assert (await client.get("/v1/privacy/policy")).json()["version"] == "2026-12-01"
    versions = (await client.get("/v1/privacy/policy/versions")).json()["items"]
    assert [v["version"] for v in versions] == ["2026-12-01", "2026-05-09"]
    duplicate = await client.post("/v1/ops/privacy/policy/versions", json=body, headers=admin)
    assert duplicate.status_code == 409
