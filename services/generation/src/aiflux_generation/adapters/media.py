"""Video files made on this machine: the local provider's clips, and videos made from the
animated (or still) images some providers answer a video model with.

A video model's output is stored and served as a video (``video/webm``, VP8: royalty-free and
played by every browser), so what the user gets matches the model they paid for.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

from PIL import Image, ImageSequence

VIDEO_MODALITIES = frozenset({"video", "animated_video"})
DEFAULT_FPS = 12


def encode_webm(frames: Sequence[Image.Image], fps: int = DEFAULT_FPS) -> bytes:
    """``frames`` (same size) as a VP8 WebM clip at ``fps``."""
    import av  # PyAV (FFmpeg): loaded only when a video is made

    width, height = (d - d % 2 for d in frames[0].size)  # VP8 wants even dimensions
    out = io.BytesIO()
    with av.open(out, mode="w", format="webm") as container:
        stream = container.add_stream("libvpx", rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        for image in frames:
            rgb = image.convert("RGB").crop((0, 0, width, height))
            frame = av.VideoFrame.from_image(rgb)  # type: ignore[no-untyped-call]  # untyped in PyAV
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))  # flush the encoder
    return out.getvalue()


def image_to_webm(data: bytes) -> bytes:
    """An animated GIF/WebP (or a still image) as a WebM clip at its own frame rate."""
    with Image.open(io.BytesIO(data)) as image:
        frames = [frame.convert("RGB") for frame in ImageSequence.Iterator(image)]
        duration_ms = image.info.get("duration") or 1000 / DEFAULT_FPS
    fps = max(1, min(60, round(1000 / max(duration_ms, 1))))
    return encode_webm(frames, fps)


def as_modality(modality: str, content_type: str, data: bytes) -> tuple[str, bytes]:
    """The output as the model's modality promises it: a video model's image becomes a video;
    anything else is kept as it is."""
    if modality in VIDEO_MODALITIES and content_type.startswith("image/"):
        return "video/webm", image_to_webm(data)
    return content_type, data
