"""The type of a file is decided by its bytes; names and declared types may only disagree."""

from __future__ import annotations

import io
import struct

import pytest
from aiflux_storage.domain import content

from .samples import HTML, jpeg, mp4, png, wav

OGG = b"OggS\x00\x02" + bytes(58)
FLAC = b"fLaC\x00\x00\x00\x22" + bytes(56)
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + bytes(54)
WEBM = b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm" + bytes(48)
GIF = b"GIF89a" + bytes(20) + b"\x3b"


def _webp() -> bytes:
    body = b"WEBPVP8 " + struct.pack("<I", 10) + bytes(10)
    return b"RIFF" + struct.pack("<I", len(body)) + body


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (png(), "image/png"),
        (jpeg(), "image/jpeg"),
        (GIF, "image/gif"),
        (_webp(), "image/webp"),
        (mp4(), "video/mp4"),
        (WEBM, "video/webm"),
        (wav(), "audio/wav"),
        (MP3, "audio/mpeg"),
        (OGG, "audio/ogg"),
        (FLAC, "audio/flac"),
    ],
)
def test_allowed_types_are_recognised_and_whole(data: bytes, media_type: str) -> None:
    detected = content.sniff(data[: content.HEAD_BYTES])
    assert detected is not None and detected.media_type == media_type
    assert content.is_complete(detected, io.BytesIO(data), len(data))


@pytest.mark.parametrize(
    "data",
    [
        HTML,
        b"%PDF-1.7\n" + bytes(60),
        b"MZ\x90\x00" + bytes(60),
        b"\x1a\x45\xdf\xa3" + b"matroska" + bytes(52),
    ],
)
def test_other_content_is_not_allowed(data: bytes) -> None:
    assert content.sniff(data[: content.HEAD_BYTES]) is None


@pytest.mark.parametrize(("data", "cut"), [(png(), 5), (jpeg(), 2), (mp4(), 10), (wav(), 100), (_webp(), 4)])
def test_truncated_files_are_detected(data: bytes, cut: int) -> None:
    detected = content.sniff(data[: content.HEAD_BYTES])
    assert detected is not None
    short = data[:-cut]
    assert not content.is_complete(detected, io.BytesIO(short), len(short))


def test_name_or_declared_type_contradicting_the_content_is_a_mismatch() -> None:
    assert content.mismatch(content.PNG, "photo.mp4", None)
    assert content.mismatch(content.PNG, "photo.png", "video/mp4")
    assert content.mismatch(content.PNG, "photo", "text/html")
    assert content.mismatch(content.PNG, "photo.PNG", "image/png") is None
    assert content.mismatch(content.JPEG, "x.jpeg", "image/jpg") is None
    assert content.mismatch(content.MP4, "clip.mov", "video/quicktime") is None
    assert content.mismatch(content.PNG, "upload.bin", "application/octet-stream") is None
