"""What users send: validation, restriction, circuit breaker, Repeat and Delete, webhooks."""

from __future__ import annotations

import json
import time
import uuid

from aiflux_contracts import ProcessingRestricted
from aiflux_generation.adapters.providers.wavespeed import sign_webhook
from generation_doubles import png, wav

from conftest import eventually


def _problem(response, status, slug):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == f"urn:aiflux:problem:{slug}"
    return response.json()


async def test_bad_requests_get_clear_problems_and_hold_nothing(harness):
    h = harness
    user_id, headers = h.user(credits=3)
    other_id, _ = h.user()
    theirs = h.storage.add_input(other_id, "image/png", png())
    audio = h.storage.add_input(user_id, "audio/wav", wav())
    post = h.client.post
    _problem(await post("/v1/generations", json={"model": "flux-dev", "prompt": "x"}), 401, "unauthenticated")
    _problem(
        await post("/v1/generations", headers=headers, json={"model": "nope", "prompt": "x"}),
        422,
        "unknown-model",
    )
    _problem(
        await post("/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "   "}),
        422,
        "invalid-prompt",
    )
    _problem(
        await post(
            "/v1/generations",
            headers=headers,
            json={"model": "flux-dev", "prompt": "x", "input_file_ids": [str(theirs)]},
        ),
        422,
        "input-file-not-found",
    )
    _problem(
        await post(
            "/v1/generations",
            headers=headers,
            json={"model": "flux-dev", "prompt": "x", "input_file_ids": [str(audio)]},
        ),
        422,
        "input-type-not-accepted",
    )
    _problem(
        await post(
            "/v1/generations",
            headers=headers,
            json={"model": "flux-dev", "prompt": "x", "params": {"nested": {"a": 1}}},
        ),
        422,
        "invalid-params",
    )
    _problem(
        await post("/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "x"}),
        402,
        "insufficient-credits",
    )
    _problem(await h.client.get(f"/v1/generations/{uuid.uuid4()}", headers=headers), 404, "not-found")
    assert h.billing.holds == {}
    listed = await h.client.get("/v1/generations", headers=headers)
    assert listed.json() == {"items": [], "next_cursor": None}

    h.container.settings.submit_rate_limit = "2/minute"
    _, busy = h.user()
    for _ in range(2):
        assert (
            await post("/v1/generations", headers=busy, json={"model": "flux-dev", "prompt": "x"})
        ).status_code == 202
    limited = await post("/v1/generations", headers=busy, json={"model": "flux-dev", "prompt": "x"})
    _problem(limited, 429, "rate-limited")
    assert int(limited.headers["retry-after"]) > 0
    assert len(h.billing.holds) == 2


async def test_catalog_lists_every_modality(harness):
    models = (await harness.client.get("/v1/models")).json()["items"]
    assert {m["modality"] for m in models} == {"image", "video", "audio", "animated_video", "text"}
    assert {m["provider"] for m in models} >= {"wavespeed", "gemini", "runpod", "atlascloud"}


async def test_restricted_user_is_refused_until_the_restriction_is_lifted(harness):
    h = harness
    user_id, headers = h.user()
    body = {"model": "flux-dev", "prompt": "a cat"}
    await h.deliver(ProcessingRestricted(user_id=user_id, restricted=True))
    await eventually(lambda: _restricted(h, user_id, True))
    _problem(await h.client.post("/v1/generations", headers=headers, json=body), 403, "processing-restricted")
    assert h.billing.holds == {}
    _other_id, other_headers = h.user()
    assert (await h.client.post("/v1/generations", headers=other_headers, json=body)).status_code == 202

    await h.deliver(ProcessingRestricted(user_id=user_id, restricted=False))
    await eventually(lambda: _restricted(h, user_id, False))
    assert (await h.client.post("/v1/generations", headers=headers, json=body)).status_code == 202


async def _restricted(h, user_id, expected):
    from aiflux_generation.adapters.repository import is_restricted

    async with h.container.database.transaction() as session:
        return await is_restricted(session, user_id) == expected


async def test_open_circuit_fails_new_requests_fast(harness_factory):
    async with harness_factory(breaker_fail_max=2, breaker_reset_s=60) as h:
        user_id, headers = h.user(credits=100)
        h.providers.down.add("atlascloud")
        for _ in range(2):
            response = await h.client.post(
                "/v1/generations", headers=headers, json={"model": "seedance-1.5", "prompt": "x"}
            )
            assert (await h.finished(response.json()["id"], headers))["status"] == "failed"
        refused = await h.client.post(
            "/v1/generations", headers=headers, json={"model": "seedance-1.5", "prompt": "x"}
        )
        _problem(refused, 503, "provider-unavailable")
        assert refused.headers["retry-after"]
        assert h.billing.available(user_id) == 100
        # Other providers still work.
        ok = await h.client.post(
            "/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "x"}
        )
        assert ok.status_code == 202


async def test_repeat_and_delete_end_to_end(harness):
    h = harness
    user_id, headers = h.user(credits=100)
    image = h.storage.add_input(user_id, "image/png", png())
    first = (
        await h.client.post(
            "/v1/generations",
            headers=headers,
            json={
                "model": "flux-dev",
                "prompt": "a red fox",
                "input_file_ids": [str(image)],
                "params": {"seed": 7},
            },
        )
    ).json()["id"]
    assert (await h.finished(first, headers))["status"] == "completed"

    repeated = await h.client.post(f"/v1/generations/{first}/repeat", headers=headers)
    assert repeated.status_code == 202
    second = repeated.json()["id"]
    body = await h.finished(second, headers)
    assert body["status"] == "completed"
    assert (body["prompt"], body["input_file_ids"], body["params"], body["repeat_of"]) == (
        "a red fox",
        [str(image)],
        {"seed": 7},
        first,
    )
    jobs = [j for j in h.providers.jobs.values()]
    assert jobs[0].body == jobs[1].body  # the provider got the same prompt and image again
    assert h.billing.balances[user_id] == 100 - 2 * body["credits"]

    first_outputs = (await h.generation(first, headers))["outputs"]
    assert (await h.client.delete(f"/v1/generations/{first}", headers=headers)).status_code == 204
    _problem(await h.client.get(f"/v1/generations/{first}", headers=headers), 404, "not-found")
    _problem(await h.client.post(f"/v1/generations/{first}/repeat", headers=headers), 404, "not-found")
    assert (await h.client.delete(f"/v1/generations/{second}", headers=headers)).status_code == 204
    deleted = await h.events("generation.generation_deleted.v1")
    # The input stays while the repeat still needs it, and goes with the last generation.
    assert deleted[0]["input_file_ids"] == []
    assert deleted[0]["output_file_ids"] == [first_outputs[0]["file_id"]]
    assert deleted[1]["input_file_ids"] == [str(image)]
    listed = await h.client.get("/v1/generations", headers=headers)
    assert listed.json()["items"] == []

    async def provider_side_deleted():
        return len(h.providers.deleted_predictions) >= 4  # after completion and delete

    await eventually(provider_side_deleted)


async def test_deleting_a_running_job_voids_its_hold(harness):
    h = harness
    user_id, headers = h.user(credits=10)
    h.providers.polls_to_finish = 10_000
    gid = (
        await h.client.post("/v1/generations", headers=headers, json={"model": "tts-voice", "prompt": "hi"})
    ).json()["id"]

    async def running():
        return (await h.generation(gid, headers))["status"] == "running"

    await eventually(running)
    assert (await h.client.delete(f"/v1/generations/{gid}", headers=headers)).status_code == 204
    assert h.billing.voids[uuid.UUID(gid)] == 1
    assert h.billing.available(user_id) == 10

    async def cancelled():
        return h.providers.cancelled

    await eventually(cancelled)


def _signed(secret, body, *, timestamp=None, webhook_id="wh_1"):
    ts = str(int(timestamp or time.time()))
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": ts,
        "webhook-signature": sign_webhook(secret, webhook_id, ts, body),
        "content-type": "application/json",
    }


async def test_wavespeed_webhooks_need_a_valid_signature(harness_factory):
    # Polls are slow here, so an early finish proves the webhook made us re-read.
    async with harness_factory(poll_initial_s=20, poll_max_s=20, lease_s=60) as h:
        _, headers = h.user()
        h.providers.polls_to_finish = 1
        gid = (
            await h.client.post("/v1/generations", headers=headers, json={"model": "flux-dev", "prompt": "x"})
        ).json()["id"]

        async def submitted():
            return [j for j, job in h.providers.jobs.items()]

        [prediction] = await eventually(submitted)
        body = json.dumps({"id": prediction, "status": "completed"}).encode()
        url = "/v1/generation/webhooks/wavespeed"
        secret = "whsec_test-secret"
        bad = [
            _signed("whsec_wrong", body),
            _signed(secret, body, timestamp=time.time() - 3600),
            {"content-type": "application/json"},
        ]
        for wrong in bad:
            _problem(await h.client.post(url, content=body, headers=wrong), 401, "webhook-signature-invalid")
        assert (await h.generation(gid, headers))["status"] == "running"

        ok = await h.client.post(url, content=body, headers=_signed(secret, body))
        assert ok.status_code == 200
        assert (await h.finished(gid, headers))["status"] == "completed"


async def test_runpod_webhook_needs_the_secret_in_its_url(harness):
    h = harness
    _, headers = h.user()
    gid = (
        await h.client.post("/v1/generations", headers=headers, json={"model": "tts-voice", "prompt": "x"})
    ).json()["id"]
    wrong = await h.client.post(f"/v1/generation/webhooks/runpod/{gid}/{'0' * 64}")
    _problem(wrong, 404, "not-found")
