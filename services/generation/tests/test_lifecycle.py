"""Full generations through each provider's API, and failures that void the hold once."""

from __future__ import annotations

import uuid

import pytest
from generation_doubles import png, wav

from conftest import eventually

PROVIDER_CASES = [
    # model, input content type, expected output type
    ("flux-dev", "image/png", "image/png"),
    ("gemini-image", "image/png", "image/png"),
    ("veo-3", None, "video/mp4"),
    ("tts-voice", "audio/wav", "audio/wav"),
    ("seedance-1.5", "image/png", "video/mp4"),
    ("wan-2.2-video", "image/png", "video/mp4"),
    ("animate-portrait", "image/png", "video/webm"),  # a GIF from the provider, kept as video
    ("gemini-text", "image/png", "text"),
]


async def test_full_generation_through_each_provider(harness):
    """Through 429s and 500s on status reads, a job on each provider completes: outputs
    are in storage, the credits are captured and GenerationCompleted is published once."""
    h = harness
    user_id, headers = h.user(credits=1000)
    started = {}
    for model, input_type, output_type in PROVIDER_CASES:
        inputs = []
        if input_type:
            data = png() if input_type == "image/png" else wav()
            inputs = [str(h.storage.add_input(user_id, input_type, data))]
        if not model.startswith("gemini-"):  # inline models: no status reads to disturb
            h.providers.script(h.container.catalog.get(model).provider, 429, 500)
        response = await h.client.post(
            "/v1/generations",
            headers=headers,
            json={"model": model, "prompt": "a lighthouse at dawn", "input_file_ids": inputs},
        )
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "queued"
        started[response.json()["id"]] = output_type

    spent = 0
    for generation_id, output_type in started.items():
        body = await h.finished(generation_id, headers)
        assert body["status"] == "completed", body
        if output_type == "text":  # text stays on the generation; storage keeps media only
            assert (body["text"], body["outputs"]) == ("Here you go", [])
            spent += body["credits"]
            continue
        assert len(body["outputs"]) == 1
        stored = h.storage.files[uuid.UUID(body["outputs"][0]["file_id"])]
        assert (stored.info.user_id, stored.info.content_type) == (user_id, output_type)
        assert stored.generation_id == uuid.UUID(generation_id)
        assert h.billing.holds[uuid.UUID(generation_id)].status == "captured"
        spent += body["credits"]
    assert h.billing.balances[user_id] == 1000 - spent
    completed = await h.events("generation.generation_completed.v1")
    assert sorted(e["generation_id"] for e in completed) == sorted(started)
    # Gemini's uploaded reference file was deleted after the job (Files API).
    assert h.providers.files
    await eventually(lambda: _async(set(h.providers.deleted_files) == set(h.providers.files)))


async def _async(value):
    return value


async def test_inputs_reach_the_provider_and_secrets_stay_with_it(harness):
    """WaveSpeed gets the reference image inline and its own key; Atlas Cloud gets the
    retention headers; no job carries the user id."""
    h = harness
    user_id, headers = h.user()
    image = png((1, 2, 3))
    file_id = h.storage.add_input(user_id, "image/png", image)
    for model in ("flux-dev", "seedance-1.5"):
        response = await h.client.post(
            "/v1/generations",
            headers=headers,
            json={"model": model, "prompt": "p", "input_file_ids": [str(file_id)]},
        )
        assert (await h.finished(response.json()["id"], headers))["status"] == "completed"
    jobs = {job.provider: job for job in h.providers.jobs.values()}
    assert jobs["wavespeed"].headers["authorization"] == "Bearer ws-key"
    assert jobs["wavespeed"].body["image"].startswith("data:image/png;base64,")
    assert jobs["atlascloud"].headers["x-atlascloud-request-retention-hours"] == "0"
    assert jobs["atlascloud"].headers["authorization"] == "Bearer atlas-key"
    assert all(str(user_id) not in str(job.body) for job in jobs.values())


@pytest.mark.parametrize("failure", ["job-fails", "submit-500", "submit-rejected"])
async def test_failing_provider_voids_the_hold_exactly_once(harness, failure):
    """The user sees a readable reason, the hold is voided once, one GenerationFailed."""
    h = harness
    user_id, headers = h.user(credits=50)
    if failure == "job-fails":
        h.providers.fail_jobs.add("runpod")
    else:
        h.providers.script("runpod", 500 if failure == "submit-500" else 400, method="POST")
    response = await h.client.post(
        "/v1/generations", headers=headers, json={"model": "tts-voice", "prompt": "hello there"}
    )
    generation_id = response.json()["id"]

    body = await h.finished(generation_id, headers)
    assert body["status"] == "failed"
    assert "credits were returned" in body["failure_reason"]
    assert body["outputs"] == []
    gid = uuid.UUID(generation_id)
    assert h.billing.holds[gid].status == "voided"
    assert h.billing.voids[gid] == 1
    assert h.billing.available(user_id) == 50
    failed = await h.events("generation.generation_failed.v1")
    assert [e["generation_id"] for e in failed] == [generation_id]
    if failure == "job-fails":
        assert "CUDA out of memory" in body["failure_reason"]


async def test_provider_timeout_fails_the_job_and_cancels_it(harness_factory):
    """A job that never finishes fails at its deadline, its hold is voided once, and the
    still-running RunPod job is cancelled by the cleanup."""
    async with harness_factory(job_timeout_s={"runpod": 1.0}) as h:
        _user_id, headers = h.user()
        h.providers.polls_to_finish = 10_000
        response = await h.client.post(
            "/v1/generations", headers=headers, json={"model": "tts-voice", "prompt": "slow"}
        )
        body = await h.finished(response.json()["id"], headers)
        assert body["status"] == "failed"
        assert "took too long" in body["failure_reason"]
        assert h.billing.voids[uuid.UUID(body["id"])] == 1

        async def cancelled():
            return h.providers.cancelled

        assert len(await _wait(cancelled)) == 1


async def test_billing_down_at_the_end_delays_but_never_loses_the_capture(harness):
    """When billing does not answer at capture time the job waits, then completes."""
    h = harness
    _user_id, headers = h.user()
    h.providers.polls_to_finish = 3
    response = await h.client.post(
        "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "x"}
    )
    gid = uuid.UUID(response.json()["id"])
    h.billing.down = True

    async def outputs_stored():
        body = await h.generation(gid, headers)
        async with h.container.database.transaction() as s:
            from sqlalchemy import text

            row = (
                await s.execute(text("SELECT outputs_stored FROM generation WHERE id=:i"), {"i": gid})
            ).one()
        return row.outputs_stored and body["status"] == "running"

    await _wait(outputs_stored)
    h.billing.down = False
    body = await h.finished(gid, headers)
    assert body["status"] == "completed"
    assert h.billing.holds[gid].status == "captured"
    assert len(h.storage.files) == 1  # the output was stored once, not again on retry


async def _wait(check):
    return await eventually(check)
