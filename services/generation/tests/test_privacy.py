"""Erasure (with provider cleanups before the receipt), export and verification."""

from __future__ import annotations

import json
import uuid

from aiflux_contracts import (
    ErasureVerificationRequested,
    ExportRequested,
    ProcessingRestricted,
    UserDeleted,
)
from generation_doubles import png

from conftest import eventually


async def test_erasure_waits_for_provider_cleanups_then_sends_its_receipt(harness_factory):
    async with harness_factory(breaker_fail_max=3, breaker_reset_s=0.2,
                               cleanup_max_attempts=1000) as h:
        user_id, headers = h.user(credits=100)
        _bystander, bystander_headers = h.user()
        image = h.storage.add_input(user_id, "image/png", png())
        done = (await h.client.post("/v1/generations", headers=headers, json={
            "model": "flux-dev", "prompt": "secret prompt", "input_file_ids": [str(image)]})
        ).json()["id"]
        assert (await h.finished(done, headers))["status"] == "completed"
        h.providers.polls_to_finish = 10_000
        running = (await h.client.post("/v1/generations", headers=headers, json={
            "model": "tts-voice", "prompt": "still running"})).json()["id"]
        kept = (await h.client.post("/v1/generations", headers=bystander_headers, json={
            "model": "flux-dev", "prompt": "not theirs"})).json()["id"]
        await eventually(lambda: _status(h, running, "running"))
        await h.deliver(ProcessingRestricted(user_id=user_id, restricted=True))
        h.providers.down.update({"wavespeed", "runpod"})

        request_id = uuid.uuid4()
        await h.deliver(UserDeleted(user_id=user_id, request_id=request_id))

        async def erased():
            response = await h.client.get("/v1/generations", headers=headers)
            return response.json()["items"] == []
        await eventually(erased)
        assert h.billing.voids[uuid.UUID(running)] == 1  # the running job's hold released
        assert (await h.generation(kept, bystander_headers))["prompt"] == "not theirs"

        async def cleanups_retried():
            async with h.container.database.transaction() as s:
                from sqlalchemy import text
                rows = (await s.execute(text(
                    "SELECT attempts FROM provider_cleanup WHERE status = 'pending'"))).all()
            return len(rows) >= 2 and all(r.attempts >= 2 for r in rows)
        await eventually(cleanups_retried)
        assert await h.events("generation.erasure_completed.v1") == []

        h.providers.down.clear()

        async def receipt():
            return await h.events("generation.erasure_completed.v1")
        [completed] = await eventually(receipt)
        assert completed["request_id"] == str(request_id)
        assert completed["deleted"]["generations"] == 2
        assert completed["deleted"]["prompts"] == 2
        assert completed["deleted"]["provider_cleanups"] >= 2
        assert h.providers.cancelled  # the running RunPod job was cancelled
        async with h.container.database.transaction() as s:
            from sqlalchemy import text
            left = (await s.execute(text(
                "SELECT (SELECT count(*) FROM generation_erasure WHERE user_id = :u)"
                " + (SELECT count(*) FROM provider_cleanup WHERE user_id = :u)"
                " + (SELECT count(*) FROM processing_restriction WHERE user_id = :u)"),
                {"u": user_id})).scalar_one()
        assert left == 0  # the receipt's bookkeeping forgot the user too

        # A re-drive (same request id) repeats the receipt; nothing else happens.
        await h.deliver(UserDeleted(user_id=user_id, request_id=request_id))
        await eventually(lambda: _count_events(h, "generation.erasure_completed.v1", 2))

        await h.deliver(ErasureVerificationRequested(user_id=user_id, request_id=request_id))

        async def verified():
            return await h.events("generation.erasure_verified.v1")
        [verdict] = await eventually(verified)
        assert verdict["remaining"] == {"generations": 0, "processing_restrictions": 0,
                                        "provider_cleanups_pending": 0}


async def test_erasure_of_a_user_with_nothing_answers_at_once(harness):
    h = harness
    request_id = uuid.uuid4()
    await h.deliver(UserDeleted(user_id=uuid.uuid4(), request_id=request_id))

    async def receipt():
        return await h.events("generation.erasure_completed.v1")
    [completed] = await eventually(receipt)
    assert completed["deleted"] == {"generations": 0, "prompts": 0,
                                    "processing_restrictions": 0, "provider_cleanups": 0}


async def test_export_writes_generations_and_prompts(harness):
    h = harness
    user_id, headers = h.user()
    gid = (await h.client.post("/v1/generations", headers=headers, json={
        "model": "flux-dev", "prompt": "my exported prompt"})).json()["id"]
    await h.finished(gid, headers)
    request_id = uuid.uuid4()
    await h.deliver(ExportRequested(request_id=request_id, user_id=user_id))

    async def part_ready():
        return await h.events("generation.export_part_ready.v1")
    [ready] = await eventually(part_ready)
    assert ready["objects"] == ["generation.json"]
    document = json.loads(h.storage.exports[f"exports/{request_id}/generation.json"])
    [exported] = document["generations"]
    assert (exported["id"], exported["prompt"], exported["status"]) == (
        gid, "my exported prompt", "completed")
    # The result URLs as the user sees them in the API (§2), never an internal path or key.
    shown = (await h.client.get(f"/v1/generations/{gid}", headers=headers)).json()
    assert exported["outputs"] == shown["outputs"] and len(shown["outputs"]) == 1
    assert exported["outputs"][0]["url"].endswith(f"/v1/files/{shown['outputs'][0]['file_id']}")
    assert exported["params"] == shown["params"] and exported["created_at"]
    assert exported["finished_at"]
    raw = h.storage.exports[f"exports/{request_id}/generation.json"].decode()
    assert "/internal/" not in raw and "provider_job_id" not in raw


async def _status(h, gid, status):
    async with h.container.database.transaction() as s:
        from sqlalchemy import text
        row = (await s.execute(text("SELECT status FROM generation WHERE id = :i"),
                               {"i": gid})).first()
    return row is not None and row.status == status


async def _count_events(h, key, n):
    return len(await h.events(key)) == n
