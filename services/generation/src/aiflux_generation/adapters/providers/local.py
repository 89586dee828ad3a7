"""The built-in local provider (embedded mode): makes real files offline, after a delay.

Nothing leaves the process, so it names no processor. Job ids carry everything needed to
finish the job (``{modality}.{seed}.{ready_at_ms}``), so a restart loses nothing: a PNG for
images, a WAV of a voice-like signal for audio, a WebM (VP8) video for video and animations,
and plain text for text. A video model's output is a video, stored and served as one.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import math
import struct
import time
import uuid
import wave

from PIL import Image, ImageDraw

from ..media import encode_webm
from .base import JobSpec, JobStatus, Output, ProviderRejected, Submission

SIZE = (256, 256)
SAMPLE_RATE = 16_000


class LocalProvider:
    """Makes images, speech-like audio and animations on this machine."""

    name = "local"

    def __init__(self, delay_s: float) -> None:
        self._delay = delay_s

    async def submit(self, spec: JobSpec) -> Submission:
        """Accept the job; it is ready after the configured delay."""
        seed = hashlib.sha256(f"{spec.prompt}|{spec.generation_id}".encode()).hexdigest()[:16]
        ready_at = int((time.time() + self._delay) * 1000)
        return Submission(job_id=f"{spec.modality}.{seed}.{ready_at}")

    async def status(self, job_id: str) -> JobStatus:
        """Running until the delay passed, then the finished file."""
        try:
            modality, seed, ready_at = job_id.split(".")
            ready = int(ready_at) / 1000
        except ValueError:
            raise ProviderRejected("Unknown local job.") from None
        if time.time() < ready:
            return JobStatus("running")
        content_type, data = await asyncio.to_thread(make_file, modality, int(seed, 16))
        return JobStatus("succeeded", (Output(content_type=content_type, data=data),))

    async def download(self, output: Output) -> bytes:
        """Results are always inline."""
        return output.data or b""

    async def cleanup(self, job_id: str | None, file_ids: tuple[str, ...]) -> str:
        """Nothing is kept anywhere but in our own storage."""
        return "nothing-to-delete"


def make_file(modality: str, seed: int) -> tuple[str, bytes]:
    """A real file for ``modality``: (content type, bytes)."""
    if modality == "image":
        return "image/png", _png(seed)
    if modality == "audio":
        return "audio/wav", _wav(seed)
    if modality in ("video", "animated_video"):
        return "video/webm", _webm(seed)
    return "text/plain", f"Local text result {uuid.UUID(int=seed)}.\n".encode()


def _frame(seed: int, phase: float) -> Image.Image:
    r, g, b = (seed >> 16) & 255, (seed >> 8) & 255, seed & 255
    image = Image.new("RGB", SIZE, (r // 2, g // 2, b // 2))
    draw = ImageDraw.Draw(image)
    for y in range(0, SIZE[1], 8):
        shade = int(255 * y / SIZE[1])
        draw.rectangle([0, y, SIZE[0], y + 8], fill=((r + shade) % 256, g, (b + shade) % 256))
    cx = SIZE[0] / 2 + math.cos(phase) * 60
    cy = SIZE[1] / 2 + math.sin(phase) * 60
    draw.ellipse([cx - 30, cy - 30, cx + 30, cy + 30], fill=(255 - r, 255 - g, 255 - b))
    return image


def _png(seed: int) -> bytes:
    out = io.BytesIO()
    _frame(seed, (seed % 628) / 100).save(out, format="PNG")
    return out.getvalue()


def _webm(seed: int, frames: int = 12) -> bytes:
    """One second of a moving disc as a WebM clip."""
    return encode_webm([_frame(seed, 2 * math.pi * i / frames) for i in range(frames)])


def _wav(seed: int, seconds: float = 1.5) -> bytes:
    """A voiced, syllable-like signal: a pitch with harmonics, gliding and pulsing."""
    pitch = 110 + seed % 90
    frames = bytearray()
    for n in range(int(SAMPLE_RATE * seconds)):
        t = n / SAMPLE_RATE
        f0 = pitch * (1 + 0.08 * math.sin(2 * math.pi * 3 * t))
        voice = sum(math.sin(2 * math.pi * f0 * k * t) / k for k in range(1, 6))
        envelope = max(0.0, math.sin(2 * math.pi * 4 * t)) ** 0.5
        frames += struct.pack("<h", int(9000 * voice * envelope / 2.3))
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(frames))
    return out.getvalue()
