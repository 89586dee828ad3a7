"""What the built-in local provider makes for each modality is what storage's content check
takes it for: a video model's output is a video, an image model's an image, speech is audio."""

from __future__ import annotations

import pytest
from aiflux_generation.adapters.providers.local import make_file
from aiflux_generation.domain.catalog import MODALITIES
from aiflux_storage.domain.content import HEAD_BYTES, sniff

STORED_AS = {"image": "image", "video": "video", "animated_video": "video", "audio": "audio"}


@pytest.mark.parametrize("modality", sorted(set(MODALITIES) - {"text"}))
def test_storage_sees_each_local_output_as_its_modality(modality: str) -> None:
    content_type, data = make_file(modality, 4242)
    detected = sniff(data[:HEAD_BYTES])
    assert detected is not None, modality
    assert (detected.kind, detected.media_type) == (STORED_AS[modality], content_type)
