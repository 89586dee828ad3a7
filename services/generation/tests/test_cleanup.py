"""Provider cleanups: waiting through a long outage, parking, ops retry, receipts."""

from __future__ import annotations

from sqlalchemy import text

from conftest import eventually


async def _cleanups(h, status=None):
    async with h.container.database.transaction() as s:
        query = "SELECT * FROM provider_cleanup"
        params = {}
        if status:
            query += " WHERE status = :s"
            params["s"] = status
        return (await s.execute(text(query), params)).all()


async def _completed_wavespeed_jobs(h, headers, count):
    ids = []
    for n in range(count):
        response = await h.client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": f"job {n}"}
        )
        ids.append(response.json()["id"])
    for gid in ids:
        assert (await h.finished(gid, headers))["status"] == "completed"
    # Completion already asks WaveSpeed to delete each prediction (outputs are copied).
    await eventually(lambda: _ready(len(h.providers.deleted_predictions) == count))
    return ids


async def _ready(value):
    return value


async def test_provider_down_for_long_leaves_cleanups_waiting_then_finishes_them(harness_factory):
    async with harness_factory(breaker_fail_max=3, breaker_reset_s=0.2, cleanup_max_attempts=1000) as h:
        _, headers = h.user()
        ids = await _completed_wavespeed_jobs(h, headers, 3)
        h.providers.down.add("wavespeed")
        for gid in ids:
            assert (await h.client.delete(f"/v1/generations/{gid}", headers=headers)).status_code == 204

        async def all_retried_several_times():
            rows = await _cleanups(h, "pending")
            return len(rows) == 3 and all(r.attempts >= 3 for r in rows)

        await eventually(all_retried_several_times)
        listed = await h.client.get("/v1/ops/generation/cleanups?status=pending", headers=h.admin())
        assert len(listed.json()["items"]) == 3
        assert all(item["last_error"] for item in listed.json()["items"])

        h.providers.down.discard("wavespeed")

        async def all_done():
            rows = await _cleanups(h)
            return len(rows) == 6 and all(r.status == "done" for r in rows)

        await eventually(all_done)
        job_ids = {j for j, job in h.providers.jobs.items() if job.provider == "wavespeed"}
        assert h.providers.deleted_predictions.count(next(iter(job_ids))) == 2
        assert set(h.providers.deleted_predictions) == job_ids
        receipts = await h.events("generation.provider_cleanup_completed.v1")
        assert len(receipts) == 6
        assert {r["strategy"] for r in receipts} == {"delete-predictions"}


async def test_a_cleanup_that_keeps_failing_is_parked_for_ops_and_retried(harness_factory):
    async with harness_factory(cleanup_max_attempts=2) as h:
        _, headers = h.user()
        [gid] = await _completed_wavespeed_jobs(h, headers, 1)
        h.providers.down.add("wavespeed")
        await h.client.delete(f"/v1/generations/{gid}", headers=headers)

        async def parked():
            return await _cleanups(h, "parked")

        [row] = await eventually(parked)
        admin = h.admin()
        listed = (await h.client.get("/v1/ops/generation/cleanups?status=parked", headers=admin)).json()[
            "items"
        ]
        assert [i["cleanup_id"] for i in listed] == [str(row.cleanup_id)]
        _, user_headers = h.user()
        assert (await h.client.get("/v1/ops/generation/cleanups", headers=user_headers)).status_code == 403

        h.providers.down.discard("wavespeed")
        retried = await h.client.post(f"/v1/ops/generation/cleanups/{row.cleanup_id}/retry", headers=admin)
        assert retried.status_code == 200

        async def done():
            rows = await _cleanups(h, "done")
            return len(rows) == 2

        await eventually(done)
        missing = await h.client.post(
            "/v1/ops/generation/cleanups/00000000-0000-0000-0000-000000000000/retry", headers=admin
        )
        assert missing.status_code == 404
