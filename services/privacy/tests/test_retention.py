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
    assert (await privacy.client.post("/v1/privacy/consents/link", headers=headers)).status_code == 200
    await privacy.sql(
        "UPDATE consent_record SET recorded_at = now() - interval '14 months' WHERE subject_id IN (:a, :b)",
        a=old,
        b=old_linked,
    )
    # Twelve months idle is still inside the period.
    await privacy.sql(
        "UPDATE consent_record SET recorded_at = now() - interval '12 months' WHERE subject_id = :f", f=fresh
    )

    swept = await privacy.stack.runtime.run_sweep("privacy", "anonymous-consent-expiry")

    assert swept.counts == {"deleted": 1}
    left = {
        row.subject_id
        for row in await privacy.sql(
            "SELECT DISTINCT subject_id FROM consent_record WHERE subject_kind = 'anonymous'"
        )
    }
    assert left == {fresh, old_linked}
    admin = privacy.admin()
    shown = (await privacy.client.get("/v1/ops/privacy/sweeps", headers=admin)).json()["items"]
    last = next(s for s in shown if s["name"] == "anonymous-consent-expiry")["last_run"]
    assert last["counts"] == {"deleted": 1}
