"""The local provider makes real files a user can open, offline, through the whole flow."""

from __future__ import annotations

import io
import uuid
import wave

from aiflux_generation.adapters.providers.local import make_file
from PIL import Image


def test_local_files_open_as_what_they_claim():
    content_type, data = make_file("image", 12345)
    assert content_type == "image/png"
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.size == (256, 256)

    content_type, data = make_file("animated_video", 99)
    assert content_type == "image/gif"
    animation = Image.open(io.BytesIO(data))
    assert animation.n_frames > 1

    content_type, data = make_file("audio", 7)
    assert content_type == "audio/wav"
    with wave.open(io.BytesIO(data)) as clip:
        assert clip.getframerate() == 16_000
        assert clip.getnframes() / clip.getframerate() >= 1.0
        samples = clip.readframes(clip.getnframes())
    assert len(set(samples)) > 100  # a signal, not silence


async def test_offline_catalog_runs_every_model_on_the_local_provider(harness_factory):
    async with harness_factory(offline=True) as h:
        models = (await h.client.get("/v1/models")).json()["items"]
        assert {m["provider"] for m in models} == {"local"}
        _user_id, headers = h.user(credits=1000)
        started = {}
        for model in ("flux-dev", "tts-voice", "animate-portrait"):
            response = await h.client.post("/v1/generations", headers=headers,
                                           json={"model": model, "prompt": "offline"})
            started[response.json()["id"]] = model
        for gid in started:
            body = await h.finished(gid, headers)
            assert body["status"] == "completed", body
            stored = h.storage.files[uuid.UUID(body["outputs"][0]["file_id"])]
            if stored.info.content_type == "audio/wav":
                with wave.open(io.BytesIO(stored.data)) as clip:
                    assert clip.getnframes() > 0
            else:
                Image.open(io.BytesIO(stored.data)).verify()
        assert h.providers.jobs == {}  # nothing went to a remote provider
