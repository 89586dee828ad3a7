"""Hostile inputs once answered with a 500 or accepted, each now a clear problem."""

from __future__ import annotations

import io
import struct

from aiflux_storage.domain import content

from .helpers import objects_under, upload
from .samples import _png_chunk, png


def _problem(response, status: int, slug: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == f"urn:aiflux:problem:{slug}"


async def test_non_ascii_download_tokens_are_invalid_links(stack) -> None:
    # GET /v1/files/download/<payload>.é made compare_digest raise: an unauthenticated 500.
    for token in ["eyJrIjoxfQ.%C3%A9", "%C3%A9.%C3%A9", "abc.%E2%80%8B", "x.%C2%B2"]:
        _problem(await stack.client.get(f"/v1/files/download/{token}"), 403, "invalid-download-link")


def _declared_png(width: int, height: int) -> bytes:
    """A small, whole PNG whose header declares ``width`` x ``height`` pixels."""
    real = png()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return real[:8] + _png_chunk(b"IHDR", header) + real[8 + 25 :]


async def test_images_declaring_huge_dimensions_are_refused(stack, sessions) -> None:
    # A 10 KB PNG declaring 100000 x 100000 pixels was stored and later sent to providers.
    user_id, headers = sessions.sign_in()
    for width, height in [(100_000, 100_000), (200_000, 8), (8, 200_000)]:
        bomb = _declared_png(width, height)
        assert len(bomb) < 10_000
        response = await upload(stack, headers, bomb, "bomb.png", "image/png")
        _problem(response, 422, "image-too-large")
        assert "pixels" in response.json()["detail"]
    assert await objects_under(stack, f"users/{user_id}/") == []
    fine = await upload(stack, headers, png(64, 64), "fine.png", "image/png")
    assert fine.status_code == 201, fine.text


def test_gif_and_webp_headers_declaring_huge_images_are_refused() -> None:
    gif = b"GIF89a" + struct.pack("<HH", 65_535, 65_535) + b"\x00\x00\x00" + b",\x00" + bytes(9)
    body = b"WEBPVP8X" + struct.pack("<I", 10) + bytes(4) + (16_383).to_bytes(3, "little") * 2
    webp = b"RIFF" + struct.pack("<I", len(body)) + body
    for data in (gif, webp):
        file_type = content.sniff(data[: content.HEAD_BYTES])
        assert file_type is not None and file_type.kind == "image"
        reason = content.oversized_image(file_type, io.BytesIO(data), 50_000_000, 16_384)
        assert reason is not None and "pixels" in reason
