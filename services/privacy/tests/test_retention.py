"""Privacy's retention sweep deletes only consent records past their period."""

from __future__ import annotations

import uuid


async def _visitor(privacy, purpose: str) -> uuid.UUID:
    privacy.client.cookies.clear()
    answer = await privacy.client.put(f"/v1/privacy/consents/{purpose}", json={"granted": True})
    assert answer.status_code == 200
    return uuid.UUID(privacy.client.cookies["aiflux_consent_id"])


async def test_anonymous_consents_expire_only_past_13_months_and_unlinked(privacy):
    old, fresh, old_linked = [await _visitor(privacy, "analytics") for _ in range(3)]
    _, headers = privacy.user()
    privacy.client.cookies.set("aiflux_consent_id", str(old_linked))
    assert (await privacy.client.post("/v1/privacy/consents/link",
                                      headers=headers)).status_code == 200
    await privacy.sql("UPDATE consent_record SET recorded_at = now() - interval '14 months'"
                      " WHERE subject_id IN (:a, :b)", a=old, b=old_linked)
    # Twelve months idle is still inside the period.
    await privacy.sql("UPDATE consent_record SET recorded_at = now() - interval '12 months'"
                      " WHERE subject_id = :f", f=fresh)

    swept = await privacy.stack.runtime.run_sweep("privacy", "anonymous-consent-expiry")

    assert swept.counts == {"deleted": 1}
    left = {row.subject_id for row in await privacy.sql(
        "SELECT DISTINCT subject_id FROM consent_record WHERE subject_kind = 'anonymous'")}
    assert left == {fresh, old_linked}
    admin = privacy.admin()
    shown = (await privacy.client.get("/v1/ops/privacy/sweeps", headers=admin)).json()["items"]
    last = next(s for s in shown if s["name"] == "anonymous-consent-expiry")["last_run"]
    assert last["counts"] == {"deleted": 1}


async def test_published_events_are_forgotten_after_a_week_unsent_ones_never(privacy):
    await privacy.sql("DELETE FROM outbox")
    rows = {"old_sent": "now() - interval '8 days'", "new_sent": "now() - interval '6 days'",
            "old_unsent": None}
    for name, sent_at in rows.items():
        await privacy.sql(
            "INSERT INTO outbox (event_id, routing_key, body, created_at, available_at, sent_at)"
            f" VALUES (:id, :key, '{{}}', now() - interval '9 days', now() + interval '1 hour',"
            f" {sent_at or 'NULL'})", id=uuid.uuid4(), key=f"privacy.{name}.v1")

    swept = await privacy.stack.runtime.run_sweep("privacy", "sent-events-cleanup")

    assert swept.counts == {"deleted": 1}
    left = {row.routing_key for row in await privacy.sql("SELECT routing_key FROM outbox")}
    assert left == {"privacy.new_sent.v1", "privacy.old_unsent.v1"}
