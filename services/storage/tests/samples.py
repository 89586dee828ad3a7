"""Small, valid media files made in code (no binary fixtures), and broken variants of them."""

from __future__ import annotations

import struct
import zlib


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(width: int = 8, height: int = 8, extra: int = 0) -> bytes:
    """A real RGB PNG; ``extra`` pads it with a private ancillary chunk to grow its size."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + bytes([200, 30, 60]) * width for _ in range(height))
    body = _png_chunk(b"IHDR", header)
    if extra:
        body += _png_chunk(b"zzPd", bytes(extra))
    body += _png_chunk(b"IDAT", zlib.compress(rows)) + _png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def jpeg() -> bytes:
    """A minimal JPEG-shaped file: SOI, an APP0 segment, EOI."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\x00" * 40 + b"\xff\xd9"


def mp4() -> bytes:
    """An ISO BMFF file: ftyp and mdat boxes with consistent sizes."""
    ftyp = b"isom" + struct.pack(">I", 512) + b"isomiso2mp41"
    mdat = bytes(100)
    return (
        struct.pack(">I", 8 + len(ftyp)) + b"ftyp" + ftyp + struct.pack(">I", 8 + len(mdat)) + b"mdat" + mdat
    )


def wav() -> bytes:
    """A PCM WAV with a consistent RIFF size."""
    data = bytes(400)
    fmt = struct.pack("<HHIIHH", 1, 1, 8000, 16000, 2, 16)
    body = (
        b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    )
    return b"RIFF" + struct.pack("<I", len(body)) + body


HTML = b"<!doctype html><html><body><script>alert(1)</script>" + b" " * 100 + b"</body></html>"
