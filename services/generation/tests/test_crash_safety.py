"""What a crash leaves behind is finished safely: no double submit, no stuck hold."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from aiflux_generation.adapters import repository as repo
from aiflux_generation.domain.jobs import REASON_INTERRUPTED, REASON_TIMEOUT
from sqlalchemy import text

from conftest import eventually


async def _job(h, user_id, **values):
    gid = uuid.uuid4()
    await h.billing.reserve(user_id, gid, 4)
    async with h.container.database.transaction() as session:
        await repo.insert_generation(
            session,
            {
                "id": gid,
                "user_id": user_id,
                "model": "flux-dev",
                "modality": "image",
                "provider": "wavespeed",
                "provider_model": "wavespeed-ai/flux-dev",
                "prompt": "p",
                "credits": 4,
                "status": "queued",
                "deadline_at": datetime.now(UTC) + timedelta(minutes=5),
                **values,
            },
        )
    h.container.wake.set()
    return gid


async def test_a_submit_cut_off_by_a_crash_is_never_resent(harness):
    """The worker died after starting a submit and before saving the provider's job id:
    the job fails with a clear reason and its hold is voided, instead of a second paid run."""
    h = harness
    user_id, headers = h.user()
    gid = await _job(h, user_id, submit_started_at=datetime.now(UTC) - timedelta(seconds=30))
    body = await h.finished(gid, headers)
    assert (body["status"], body["failure_reason"]) == ("failed", REASON_INTERRUPTED)
    assert h.billing.voids[gid] == 1
    assert h.providers.jobs == {}  # nothing was sent again


async def test_stuck_jobs_sweep_fails_overdue_jobs(harness):
    """A job past its deadline, held by a lease nobody will release, is failed by the sweep."""
    h = harness
    user_id, headers = h.user()
    gid = await _job(
        h,
        user_id,
        status="running",
        provider_job_id="lost",
        deadline_at=datetime.now(UTC) - timedelta(seconds=1),
        next_check_at=datetime.now(UTC) + timedelta(hours=1),
    )
    result = await h.stack.runtime.run_sweep("generation", "stuck-jobs")
    assert result.counts["overdue_jobs"] == 1
    body = await h.finished(gid, headers)
    assert (body["status"], body["failure_reason"]) == ("failed", REASON_TIMEOUT)
    assert h.billing.voids[gid] == 1

    async def recorded():
        async with h.container.database.transaction() as s:
            return (await s.execute(text("SELECT counts FROM sweep_run WHERE name = 'stuck-jobs'"))).scalar()

    assert (await eventually(recorded))["overdue_jobs"] == 1
