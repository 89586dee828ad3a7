"""User params: only each model's allow-list, in range, priced, and never more results than
the price covers (security review: params multiplied the provider bill at a flat price)."""

from __future__ import annotations

import uuid

import pytest
from aiflux_generation.domain.catalog import DEFAULT_CATALOG, Catalog
from aiflux_generation.domain.params import ParamError
from generation_doubles import png


def _problem(response, status, slug):
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["type"] == f"urn:aiflux:problem:{slug}"
    return body


CATALOG = Catalog.from_config(DEFAULT_CATALOG, offline=False)


# --- the rules on their own ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "params", "key"),
    [
        ("veo-3", {"sampleCount": 4}, "sampleCount"),
        ("veo-3", {"resolution": "1080p"}, "resolution"),
        ("veo-3", {"durationSeconds": 60}, "durationSeconds"),
        ("flux-dev", {"num_images": 4}, "num_images"),
        ("seedance-1.5", {"duration": 11}, "duration"),
        ("seedance-1.5", {"duration": 4}, "duration"),
        ("seedance-1.5", {"duration": 5.5}, "duration"),
        ("seedance-1.5", {"duration": "10"}, "duration"),
        ("seedance-1.5", {"duration": True}, "duration"),
        ("seedance-1.5", {"resolution": "1080p"}, "resolution"),
        ("wan-2.2-video", {"duration": 6}, "duration"),
        ("wan-2.2-video", {"negative_prompt": "x" * 501}, "negative_prompt"),
        ("tts-voice", {"voice": "anyone"}, "voice"),
        ("tts-voice", {"speed": 4}, "speed"),
        ("flux-dev", {"seed": -1}, "seed"),
        ("flux-dev", {"guidance_scale": float("nan")}, "guidance_scale"),
        ("gemini-image", {"seed": 1}, "seed"),
    ],
)
def test_unknown_or_out_of_range_params_are_refused_naming_the_key(model, params, key):
    with pytest.raises(ParamError) as caught:
        CATALOG.get(model).check_params(params)
    assert caught.value.key == key
    assert key in str(caught.value)


def test_priced_params_set_the_credits_and_count_params_are_pinned():
    seedance = CATALOG.get("seedance-1.5")
    assert seedance.check_params({}) == ({"duration": 5}, 40)
    assert seedance.check_params({"duration": 8, "seed": 3}) == ({"duration": 8, "seed": 3}, 40 + 3 * 8)
    assert seedance.check_params({"duration": 10})[1] == 80
    assert CATALOG.get("wan-2.2-video").check_params({"duration": 8})[1] == 30 + 3 * 6
    # what the provider gets: accepted values (renamed), defaults, pins last
    assert CATALOG.get("veo-3").provider_params({"aspect_ratio": "9:16", "sampleCount": 4}) == {
        "aspectRatio": "9:16",
        "sampleCount": 1,
        "resolution": "720p",
    }
    assert seedance.provider_params({"duration": 500, "num_images": 4}) == {
        "duration": 5,
        "resolution": "720p",
    }
    assert CATALOG.get("flux-dev").provider_params({"seed": 7}) == {"seed": 7, "num_images": 1}


@pytest.mark.parametrize(
    "extra",
    [
        {"params": {"n": {"type": "int"}}},  # unbounded number
        {"params": {"n": {"type": "float", "min": 0, "max": 1}}},  # unknown type
        {"params": {"n": {"type": "int", "min": 0, "max": 9, "step": 1}}},  # unknown spec key
        {"params": {"d": {"type": "int", "min": 1, "max": 9, "credits_per_unit": 2}}},  # no default
        {
            "params": {"d": {"type": "int", "min": 1, "max": 9, "default": 5, "credits_per_unit": 2}}
        },  # 1 s would cost 4 - 8 < 0 credits
        {"params": {"v": {"type": "string", "choices": ["a"], "default": "b"}}},
        {"params": {"n": {"type": "int", "min": 0, "max": 9}}, "fixed_params": {"n": 1}},
        {"outputs": 0},
    ],
)
def test_bad_param_specs_stop_the_service_at_start(extra):
    entry = {
        "id": "x",
        "modality": "video",
        "provider": "local",
        "provider_model": "m",
        "credits": 4,
        **extra,
    }
    with pytest.raises(ValueError):
        Catalog.from_config([entry], offline=False)


def test_choice_pricing():
    entry = {
        "id": "x",
        "modality": "video",
        "provider": "local",
        "provider_model": "m",
        "credits": 10,
        "params": {
            "resolution": {
                "type": "string",
                "choices": ["720p", "1080p"],
                "default": "720p",
                "credits_by_choice": {"1080p": 15},
            }
        },
    }
    model = Catalog.from_config([entry], offline=False).get("x")
    assert model.check_params({})[1] == 10
    assert model.check_params({"resolution": "1080p"})[1] == 25
    assert model.public()["params"]["resolution"]["credits_by_choice"] == {"1080p": 15}


# --- over HTTP -----------------------------------------------------------------------------


async def test_the_reported_request_is_refused_before_any_hold(harness):
    h = harness
    user_id, headers = h.user(credits=500)
    body = _problem(
        await h.client.post(
            "/v1/generations",
            headers=headers,
            json={"model": "veo-3", "prompt": "x", "params": {"sampleCount": 4, "resolution": "1080p"}},
        ),
        422,
        "invalid-params",
    )
    assert body["param"] == "sampleCount" and "sampleCount" in body["detail"]
    for model, params, key in [
        ("flux-dev", {"num_images": 4}, "num_images"),
        ("seedance-1.5", {"duration": 60}, "duration"),
        ("seedance-1.5", {"aspect_ratio": "99:1"}, "aspect_ratio"),
        ("wan-2.2-video", {"seed": "7"}, "seed"),
    ]:
        body = _problem(
            await h.client.post(
                "/v1/generations", headers=headers, json={"model": model, "prompt": "x", "params": params}
            ),
            422,
            "invalid-params",
        )
        assert body["param"] == key
    assert h.billing.holds == {}
    assert h.billing.available(user_id) == 500
    assert h.providers.jobs == {}


async def test_a_priced_param_changes_the_credits_held_and_reaches_the_provider(harness):
    h = harness
    user_id, headers = h.user(credits=500)
    longer = await h.client.post(
        "/v1/generations",
        headers=headers,
        json={"model": "seedance-1.5", "prompt": "a wave", "params": {"duration": 8}},
    )
    assert longer.status_code == 202, longer.text
    plain = await h.client.post(
        "/v1/generations", headers=headers, json={"model": "seedance-1.5", "prompt": "a wave"}
    )
    longer_id, plain_id = uuid.UUID(longer.json()["id"]), uuid.UUID(plain.json()["id"])
    assert h.billing.holds[longer_id].credits == 64
    assert h.billing.holds[plain_id].credits == 40
    done = await h.finished(longer_id, headers)
    assert (done["status"], done["credits"], done["params"]) == ("completed", 64, {"duration": 8})
    assert (await h.finished(plain_id, headers))["credits"] == 40
    assert h.billing.balances[user_id] == 500 - 64 - 40
    sent = sorted((j.body for j in h.providers.jobs.values()), key=lambda b: b["duration"])
    assert [(b["duration"], b["resolution"]) for b in sent] == [(5, "720p"), (8, "720p")]
    assert [e["credits"] for e in await h.events("generation.generation_requested.v1")] == [64, 40]


async def test_a_provider_returning_more_outputs_than_priced_stores_only_those(harness):
    h = harness
    h.providers.extra_outputs = 3
    user_id, headers = h.user(credits=500)
    image = h.storage.add_input(user_id, "image/png", png())
    ids = []
    for body in (
        {"model": "flux-dev", "prompt": "a cat", "input_file_ids": [str(image)]},
        {"model": "veo-3", "prompt": "a cat", "params": {"aspect_ratio": "9:16"}},
        {"model": "seedance-1.5", "prompt": "a cat"},
    ):
        created = await h.client.post("/v1/generations", headers=headers, json=body)
        assert created.status_code == 202, created.text
        ids.append(created.json()["id"])
    for generation_id in ids:
        done = await h.finished(generation_id, headers)
        assert done["status"] == "completed", done
        assert len(done["outputs"]) == 1
    kept = [f for f in h.storage.files.values() if f.generation_id is not None]
    assert len(kept) == 3
    bodies = {j.model: j.body for j in h.providers.jobs.values()}
    assert bodies["veo-3.0-generate-001"]["parameters"] == {
        "aspectRatio": "9:16",
        "sampleCount": 1,
        "resolution": "720p",
    }
    assert bodies["wavespeed-ai/flux-dev"]["num_images"] == 1


async def test_models_show_their_accepted_params_and_prices(harness):
    models = {m["id"]: m for m in (await harness.client.get("/v1/models")).json()["items"]}
    seedance = models["seedance-1.5"]
    assert seedance["credits"] == 40 and seedance["outputs"] == 1
    assert seedance["params"]["duration"] == {
        "type": "int",
        "min": 5,
        "max": 10,
        "default": 5,
        "credits_per_unit": 8,
    }
    assert models["veo-3"]["params"]["aspect_ratio"] == {"type": "string", "choices": ["16:9", "9:16"]}
    assert "sampleCount" not in models["veo-3"]["params"]
    assert models["wan-2.2-video"]["params"]["negative_prompt"] == {"type": "string", "max_length": 500}
    assert models["gemini-text"]["params"] == {}


async def test_embedded_mode_prices_and_checks_params_on_the_local_provider(harness_factory):
    async with harness_factory(offline=True) as h:
        user_id, headers = h.user(credits=10)
        created = await h.client.post(
            "/v1/generations",
            headers=headers,
            json={"model": "local-animation", "prompt": "a spinning top", "params": {"duration": 4}},
        )
        assert created.status_code == 202, created.text
        done = await h.finished(created.json()["id"], headers)
        assert (done["status"], done["credits"], len(done["outputs"])) == ("completed", 4, 1)
        _problem(
            await h.client.post(
                "/v1/generations",
                headers=headers,
                json={"model": "veo-3", "prompt": "x", "params": {"sampleCount": 4}},
            ),
            422,
            "invalid-params",
        )
        assert h.billing.balances[user_id] == 6
        assert h.providers.jobs == {}
