"""The local provider makes real files a user can open, offline, through the whole flow."""

from __future__ import annotations

import io
import uuid
import wave

from aiflux_generation.adapters.providers.local import make_file
from PIL import Image


def _video_frames(data: bytes) -> int:
    """How many frames a real decoder reads from the video ``data``."""
    import av

    with av.open(io.BytesIO(data)) as container:
        return sum(1 for _ in container.decode(video=0))


def test_local_files_open_as_what_they_claim():
    content_type, data = make_file("image", 12345)
    assert content_type == "image/png"
    image = Image.open(io.BytesIO(data))
    image.verify()
    assert image.size == (256, 256)

    for modality in ("video", "animated_video"):
        content_type, data = make_file(modality, 99)
        assert content_type == "video/webm", modality  # a video, not an (animated) image
        assert _video_frames(data) > 1

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
        for model in ("flux-dev", "tts-voice", "animate-portrait", "seedance-1.5"):
            response = await h.client.post(
                "/v1/generations", headers=headers, json={"model": model, "prompt": "offline"}
            )
            started[response.json()["id"]] = model
        for gid, model in started.items():
            body = await h.finished(gid, headers)
            assert body["status"] == "completed", body
            stored = h.storage.files[uuid.UUID(body["outputs"][0]["file_id"])]
            if model in ("animate-portrait", "seedance-1.5"):
                assert stored.info.content_type == "video/webm", model
            if stored.info.content_type == "video/webm":
                assert _video_frames(stored.data) > 1
            elif stored.info.content_type == "audio/wav":
                with wave.open(io.BytesIO(stored.data)) as clip:
                    assert clip.getnframes() > 0
            else:
                Image.open(io.BytesIO(stored.data)).verify()
        assert h.providers.jobs == {}  # nothing went to a remote provider


def test_provider_audio_outputs_are_stored_as_audio_whatever_the_hint():
    from aiflux_generation.domain.jobs import output_filename, sniff_content_type

    for head, expected in (
        (b"OggS\x00\x02" + b"\x00" * 20, "audio/ogg"),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 20, "audio/flac"),
        (b"\xff\xf3\x64\xc4" + b"\x00" * 20, "audio/mpeg"),
    ):
        content_type = sniff_content_type(head, "image/png")
        assert content_type == expected
        assert not output_filename(0, content_type).endswith(".bin")
