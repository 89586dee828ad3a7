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
    async with harness_factory(breaker_fail_max=3, breaker_reset_s=0.2, cleanup_max_attempts=1000) as h:
        user_id, headers = h.user(credits=100)
        _bystander, bystander_headers = h.user()
        image = h.storage.add_input(user_id, "image/png", png())
        done = (
            await h.client.post(
                "/v1/generations",
                headers=headers,
                json={"model": "flux-dev", "prompt": "secret prompt", "input_file_ids": [str(image)]},
            )
        ).json()["id"]
        assert (await h.finished(done, headers))["status"] == "completed"
        h.providers.polls_to_finish = 10_000
        running = (
            await h.client.post(
                "/v1/generations", headers=headers, json={"model": "tts-voice", "prompt": "still running"}
            )
        ).json()["id"]
        kept = (
            await h.client.post(
                "/v1/generations",
                headers=bystander_headers,
                json={"model": "flux-dev", "prompt": "not theirs"},
            )
        ).json()["id"]
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

                rows = (
                    await s.execute(text("SELECT attempts FROM provider_cleanup WHERE status = 'pending'"))
                ).all()
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

            left = (
                await s.execute(
                    text(
                        "SELECT (SELECT count(*) FROM generation_erasure WHERE user_id = :u)"
                        " + (SELECT count(*) FROM provider_cleanup WHERE user_id = :u)"
                        " + (SELECT count(*) FROM processing_restriction WHERE user_id = :u)"
                    ),
                    {"u": user_id},
                )
            ).scalar_one()
        assert left == 0  # the receipt's bookkeeping forgot the user too

        # A re-drive (same request id) repeats the receipt; nothing else happens.
        await h.deliver(UserDeleted(user_id=user_id, request_id=request_id))
        await eventually(lambda: _count_events(h, "generation.erasure_completed.v1", 2))

        await h.deliver(ErasureVerificationRequested(user_id=user_id, request_id=request_id))

        async def verified():
            return await h.events("generation.erasure_verified.v1")

        [verdict] = await eventually(verified)
        remaining = dict(verdict["remaining"])
        remaining.pop("outbox_events")  # still on its way here (the kit's tests count it)
        assert remaining == {
            "generations": 0,
            "processing_restrictions": 0,
            "provider_cleanups_pending": 0,
            "erasure_guard": 1,
        }
        assert {r["category"] for r in completed["retained"]} == {"erasure_guard", "erasure_messages"}


async def test_erasure_of_a_user_with_nothing_answers_at_once(harness):
    h = harness
    request_id = uuid.uuid4()
    await h.deliver(UserDeleted(user_id=uuid.uuid4(), request_id=request_id))

    async def receipt():
        return await h.events("generation.erasure_completed.v1")

    [completed] = await eventually(receipt)
    assert completed["deleted"] == {
        "generations": 0,
        "prompts": 0,
        "processing_restrictions": 0,
        "provider_cleanups": 0,
    }


async def test_export_writes_generations_and_prompts(harness):
    h = harness
    user_id, headers = h.user()
    gid = (
        await h.client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "my exported prompt"}
        )
    ).json()["id"]
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
        gid,
        "my exported prompt",
        "completed",
    )
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

        row = (await s.execute(text("SELECT status FROM generation WHERE id = :i"), {"i": gid})).first()
    return row is not None and row.status == status


async def _count_events(h, key, n):
    return len(await h.events(key)) == n


async def _erased(h, user_id, n: int = 1) -> list[dict]:
    request_id = uuid.uuid4()
    await h.deliver(UserDeleted(user_id=user_id, request_id=request_id))

    async def receipts():
        found = [e for e in await h.events("generation.erasure_completed.v1") if e["user_id"] == str(user_id)]
        return found if len(found) >= n else None

    return await eventually(receipts)


async def _rows(h, table: str, user_id) -> int:
    from sqlalchemy import text

    async with h.container.database.transaction() as s:
        return int(
            (
                await s.execute(text(f"SELECT count(*) FROM {table} WHERE user_id = :u"), {"u": user_id})
            ).scalar_one()
        )


async def test_writes_for_an_erased_user_are_refused(harness):
    h = harness
    user_id, headers = h.user(credits=100)  # the old session is still accepted here
    gid = (
        await h.client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "before"}
        )
    ).json()["id"]
    await h.finished(gid, headers)
    await _erased(h, user_id)

    late = await h.client.post(
        "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "after the erasure"}
    )
    assert late.status_code == 410
    assert late.json()["type"] == "urn:aiflux:problem:account-erased"
    assert (await h.client.post(f"/v1/generations/{gid}/repeat", headers=headers)).status_code == 410
    assert (await h.client.delete(f"/v1/generations/{gid}", headers=headers)).status_code == 410
    await h.deliver(ProcessingRestricted(user_id=user_id, restricted=True))
    await eventually(lambda: _handled(h, "generation.processing-restricted"))
    assert await _rows(h, "generation", user_id) == 0
    assert await _rows(h, "processing_restriction", user_id) == 0
    assert not [k for k, hold in h.billing.holds.items() if hold.user_id == user_id and hold.status == "held"]


async def test_a_redelivered_erasure_erases_what_appeared_since(harness):
    h = harness
    user_id, _ = h.user()
    [first] = await _erased(h, user_id)
    from sqlalchemy import text

    async with h.container.database.transaction() as s:  # a row that escaped the guard
        await s.execute(text("INSERT INTO processing_restriction (user_id) VALUES (:u)"), {"u": user_id})
    await h.deliver(UserDeleted(user_id=user_id, request_id=uuid.UUID(first["request_id"])))

    async def second():
        found = [e for e in await h.events("generation.erasure_completed.v1") if e["user_id"] == str(user_id)]
        return found[1] if len(found) > 1 else None

    again = await eventually(second)
    assert again["deleted"]["processing_restrictions"] == 1
    assert await _rows(h, "processing_restriction", user_id) == 0


async def test_an_output_refused_for_an_erased_user_fails_the_job_once(harness):
    h = harness
    user_id, headers = h.user(credits=100)
    h.storage.erased.add(user_id)  # storage erased the user while the job ran: 410
    gid = (
        await h.client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "too late"}
        )
    ).json()["id"]
    assert (await h.finished(gid, headers))["status"] == "failed"
    assert h.billing.voids[uuid.UUID(gid)] == 1


async def test_an_export_cancelled_by_an_erasure_finishes_without_a_part(harness):
    h = harness
    user_id, _ = h.user()
    h.storage.erased.add(user_id)
    await h.deliver(ExportRequested(request_id=uuid.uuid4(), user_id=user_id))
    await eventually(lambda: _handled(h, "generation.export-requested"))
    assert await h.events("generation.export_part_ready.v1") == []
    assert h.storage.exports == {}


async def _handled(h, consumer: str) -> bool:
    from sqlalchemy import text

    async with h.container.database.transaction() as s:
        return (
            await s.execute(text("SELECT 1 FROM inbox WHERE consumer = :c"), {"c": consumer})
        ).first() is not None
