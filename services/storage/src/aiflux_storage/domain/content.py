"""What a file is, decided by its bytes: signatures of the allowed types and cheap truncation checks.

The name and the declared type of an upload never decide its type; they may only disagree with
it, which is refused as a spoofing attempt.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import BinaryIO, Literal

from PIL import Image, UnidentifiedImageError

Kind = Literal["image", "video", "audio"]

HEAD_BYTES = 64
"""Leading bytes needed to recognise every allowed type."""


@dataclass(frozen=True)
class FileType:
    """An allowed type: its media type, kind and the file-name extensions that go with it."""

    media_type: str
    kind: Kind
    extensions: frozenset[str]
    aliases: frozenset[str] = frozenset()

    def matches_declared(self, declared: str) -> bool:
        """True when a declared media type names this type (or a common alias of it)."""
        return declared == self.media_type or declared in self.aliases


def _t(media: str, kind: Kind, exts: str, aliases: str = "") -> FileType:
    return FileType(media, kind, frozenset(exts.split()), frozenset(aliases.split()))


PNG = _t("image/png", "image", "png")
JPEG = _t("image/jpeg", "image", "jpg jpeg jpe jfif", "image/jpg image/pjpeg")
WEBP = _t("image/webp", "image", "webp")
GIF = _t("image/gif", "image", "gif")
MP4 = _t("video/mp4", "video", "mp4 m4v mov", "video/quicktime")
MOV = _t("video/quicktime", "video", "mov mp4 qt", "video/mp4")
WEBM = _t("video/webm", "video", "webm")
WAV = _t("audio/wav", "audio", "wav wave", "audio/x-wav audio/wave audio/vnd.wave")
MP3 = _t("audio/mpeg", "audio", "mp3", "audio/mp3 audio/x-mpeg")
OGG = _t("audio/ogg", "audio", "ogg oga opus", "application/ogg audio/opus")
FLAC = _t("audio/flac", "audio", "flac", "audio/x-flac")

ALL_TYPES = (PNG, JPEG, WEBP, GIF, MP4, MOV, WEBM, WAV, MP3, OGG, FLAC)
MEDIA_EXTENSIONS = frozenset(ext for t in ALL_TYPES for ext in t.extensions)
GENERIC_DECLARED = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def _is_mp3_frame(head: bytes) -> bool:
    # MPEG audio frame sync: 11 set bits, layer III, a bitrate index that is not "bad".
    if len(head) < 3 or head[0] != 0xFF or head[1] & 0xE0 != 0xE0:
        return False
    layer = (head[1] >> 1) & 0x3
    bitrate = head[2] >> 4
    return layer == 1 and bitrate not in (0, 0xF)


def sniff(head: bytes) -> FileType | None:
    """The allowed type whose signature ``head`` (the leading bytes) carries, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return WAV
    if head[4:8] == b"ftyp":
        return MOV if head[8:12] == b"qt  " else MP4
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:HEAD_BYTES]:
        return WEBM
    if head.startswith(b"OggS"):
        return OGG
    if head.startswith(b"fLaC"):
        return FLAC
    if head.startswith(b"ID3") or _is_mp3_frame(head):
        return MP3
    return None


def extension_of(filename: str | None) -> str:
    """The lower-case extension of ``filename`` without the dot ("" when there is none)."""
    if not filename or "." not in filename:
        return ""
    return filename.rsplit(".", 1)[1].strip().lower()


def mismatch(detected: FileType, filename: str | None, declared: str | None) -> str | None:
    """Why the name or declared type contradicts the content, or None when they agree.

    A media extension or media type that names another type is a spoof (e.g. a PNG named
    ``.mp4``); a generic declared type (``application/octet-stream``) says nothing.
    """
    ext = extension_of(filename)
    if ext in MEDIA_EXTENSIONS and ext not in detected.extensions:
        return f"the file name ends in .{ext} but the content is {detected.media_type}"
    declared_type = (declared or "").split(";", 1)[0].strip().lower()
    if declared_type not in GENERIC_DECLARED and not detected.matches_declared(declared_type):
        return f"the declared type is {declared_type} but the content is {detected.media_type}"
    return None


def _riff_complete(f: BinaryIO, size: int) -> bool:
    f.seek(4)
    declared: int = struct.unpack("<I", f.read(4))[0]
    return declared + 8 <= size


def _iso_boxes_complete(f: BinaryIO, size: int) -> bool:
    # Walk the top-level boxes (ISO BMFF): each must end inside the file, the last exactly at it.
    pos = 0
    while pos < size:
        f.seek(pos)
        header = f.read(16)
        if len(header) < 8:
            return False
        box = struct.unpack(">I", header[:4])[0]
        if box == 1:
            if len(header) < 16:
                return False
            box = struct.unpack(">Q", header[8:16])[0]
        elif box == 0:
            return True  # "extends to the end of the file"
        if box < 8 or pos + box > size:
            return False
        pos += box
    return True


def _tail(f: BinaryIO, size: int, n: int) -> bytes:
    f.seek(max(0, size - n))
    return f.read(n)


def is_complete(file_type: FileType, f: BinaryIO, size: int) -> bool:
    """False when the file is visibly cut short (only checks that are cheap: trailer or sizes)."""
    if file_type is PNG:
        return _tail(f, size, 12) == b"\x00\x00\x00\x00IEND\xaeB`\x82"
    if file_type is JPEG:
        return _tail(f, size, 64).rstrip(b"\x00\r\n").endswith(b"\xff\xd9")
    if file_type is GIF:
        return _tail(f, size, 16).rstrip(b"\x00").endswith(b"\x3b")
    if file_type in (WEBP, WAV):
        return _riff_complete(f, size)
    if file_type in (MP4, MOV):
        return _iso_boxes_complete(f, size)
    return size > len(b"fLaC")  # streams without a cheap end marker: non-empty beyond the magic


def oversized_image(file_type: FileType, f: BinaryIO, max_pixels: int, max_side: int) -> str | None:
    """Why an image's declared pixel size is refused, or None when it is acceptable.

    A few kilobytes of PNG can declare 100000 x 100000 pixels and decompress to tens of
    gigabytes wherever it is opened (our thumbnails, the AI providers). Only the header is read
    (``Image.open`` is lazy). A header Pillow cannot read is left to the other checks.
    """
    if file_type.kind != "image":
        return None
    f.seek(0)
    try:
        with Image.open(f) as image:
            width, height = image.size
    except Image.DecompressionBombError:
        return f"the image declares more than {max_pixels} pixels"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return None
    if width > max_side or height > max_side:
        return f"the image is {width} x {height} pixels; each side may be at most {max_side}"
    if width * height > max_pixels:
        return f"the image has {width * height} pixels; at most {max_pixels} are allowed"
    return None


_PREFERRED_EXTENSION = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "video/mp4": "mp4",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/wav": "wav",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/flac": "flac",
}


def extension_for(media_type: str) -> str:
    """The usual file-name extension of an allowed media type (``bin`` for anything else)."""
    return _PREFERRED_EXTENSION.get(media_type, "bin")
