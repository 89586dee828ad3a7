"""Rules of the job lifecycle: statuses, readable failure reasons, backoff; no I/O."""

from __future__ import annotations

import random
from typing import Any

FINAL = frozenset({"completed", "failed"})

REASON_INTERRUPTED = (
    "The job was interrupted while being sent to the provider; your credits were returned. Please try again."
)
REASON_TIMEOUT = "The provider took too long to finish; your credits were returned."
REASON_UNAVAILABLE = (
    "The provider is unavailable right now; your credits were returned. Please try again later."
)
REASON_NO_OUTPUT = "The provider returned no result; your credits were returned."
REASON_ACCOUNT_DELETED = "The account was deleted."
REASON_CANCELLED = "Cancelled by the user."
REASON_INPUT_GONE = "An input file was deleted before the job started; your credits were returned."
REASON_UNKEEPABLE = "The provider returned a file of a type we cannot keep; your credits were returned."

MAX_PARAMS = 16


def poll_delay(poll_count: int, initial_s: float, max_s: float) -> float:
    """Growing, jittered delay before the next status read (spreads load on the provider)."""
    base = min(max_s, initial_s * 1.5**poll_count)
    return base * random.uniform(0.8, 1.2)


def retry_delay(attempts: int, initial_s: float, max_s: float) -> float:
    """Growing, jittered delay before the next cleanup attempt (outages can last hours)."""
    base = min(max_s, initial_s * 2.0 ** min(attempts, 30))
    return base * random.uniform(0.8, 1.2)


def failure_text(error: str | None) -> str:
    """A provider's failure message made readable and bounded."""
    detail = (error or "The provider could not make this result.").strip()[:300]
    return f"{detail} Your credits were returned."


def valid_params(params: dict[str, Any]) -> bool:
    """Flat, small parameter maps only (they are passed to the provider as they are)."""
    return len(params) <= MAX_PARAMS and all(
        isinstance(k, str)
        and len(k) <= 64
        and "\x00" not in k
        and isinstance(v, str | int | float | bool)
        and len(str(v)) <= 256
        and "\x00" not in str(v)
        for k, v in params.items()
    )


OUTPUT_EXTENSIONS = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
    "text/plain": "txt",
}


def output_filename(index: int, content_type: str) -> str:
    """A neutral file name for an output (never derived from the prompt)."""
    return f"output-{index}.{OUTPUT_EXTENSIONS.get(content_type, 'bin')}"


def sniff_content_type(data: bytes, hint: str | None) -> str:
    """The media type of an output by its first bytes (provider URLs often carry none)."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"RIFF" and data[8:12] == b"WAVE":
        return "audio/wav"
    if data[4:8] == b"ftyp":
        return "video/mp4"
    if data.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    if data.startswith(b"OggS"):
        return "audio/ogg"
    if data.startswith(b"fLaC"):
        return "audio/flac"
    if data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0):
        return "audio/mpeg"  # an ID3 tag or an MPEG frame sync (any layer III bitrate header)
    return hint or "application/octet-stream"
