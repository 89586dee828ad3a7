"""Export archives written by storage from its own object store: one ZIP in a worker thread.

The ZIP goes to a spool file (seekable, so ``zipfile`` writes each member's sizes and CRC back
into its header: no member is ever held in memory, and media can be STORED, not deflated,
without knowing its CRC up front). Members are read straight from the store: from disk for the
local store, chunk by chunk from the event loop for any other store (S3).
"""

from __future__ import annotations

import asyncio
import os
import stat
import zipfile
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from .objects import LocalDiskStore, ObjectStore

CHUNK = 1024 * 1024
JSON_LEVEL = 1
"""Deflate level of the JSON members: most of the gain of level 9 for a fraction of the CPU."""
STORED_MAJORS = ("image/", "video/", "audio/")
"""Media is already compressed: stored as is, never deflated again."""


@dataclass(frozen=True)
class Member:
    """One member of the ZIP: its name, whether it is deflated, its size when known, and a
    function opening its bytes (called in the writing thread)."""

    name: str
    deflate: bool
    size: int | None
    chunks: Callable[[], Iterator[bytes]]


def deflated(content_type: str) -> bool:
    """Whether a file of this type is deflated in the archive (media is not)."""
    return not content_type.lower().startswith(STORED_MAJORS)


def of_bytes(name: str, data: bytes) -> Member:
    """A small member held in memory (the manifest), deflated."""
    return Member(name, True, len(data), lambda: iter((data,)))


def of_object(store: ObjectStore, key: str, name: str, deflate: bool, size: int | None) -> Member:
    """A member read from ``key`` in ``store`` while it is written (call it on the event loop):
    straight from disk for the local store; otherwise pulled chunk by chunk from the store's
    async reader, run on this event loop."""
    if isinstance(store, LocalDiskStore):
        path = store.root / key
        return Member(name, deflate, size, lambda: _file_chunks(path, key))
    loop = asyncio.get_running_loop()
    return Member(name, deflate, size, lambda: _bridged(store.open(key), loop))


def _file_chunks(path: Path, key: str) -> Iterator[bytes]:
    try:
        handle = path.open("rb")
    except FileNotFoundError:
        raise KeyError(key) from None
    with handle:
        while chunk := handle.read(CHUNK):
            yield chunk


def _bridged(chunks: AsyncIterator[bytes], loop: asyncio.AbstractEventLoop) -> Iterator[bytes]:
    async def following() -> bytes | None:
        try:
            return await anext(chunks)
        except StopAsyncIteration:
            return None

    try:
        while (chunk := asyncio.run_coroutine_threadsafe(following(), loop).result()) is not None:
            yield chunk
    finally:
        close = getattr(chunks, "aclose", None)
        if close is not None:
            asyncio.run_coroutine_threadsafe(close(), loop).result()


def write_zip(target: BinaryIO, members: Iterable[Member]) -> None:
    """Write ``members`` as one ZIP (ZIP64 where needed) to the seekable ``target``."""
    now = datetime.now(UTC).timetuple()[:6]
    with zipfile.ZipFile(target, "w", allowZip64=True) as archive:
        for member in members:
            info = zipfile.ZipInfo(member.name, now)
            info.external_attr = (stat.S_IFREG | 0o600) << 16
            if member.deflate:
                info.compress_type = zipfile.ZIP_DEFLATED
                info._compresslevel = JSON_LEVEL  # type: ignore[attr-defined]  # compress_level from 3.13
            else:
                info.compress_type = zipfile.ZIP_STORED
            if member.size is not None:
                info.file_size = member.size
            with archive.open(info, "w", force_zip64=member.size is None) as out:
                for chunk in member.chunks():
                    out.write(chunk)


async def install(store: ObjectStore, key: str, path: Path, content_type: str) -> None:
    """Put the finished file at ``path`` under ``key``: renamed into place on the local store
    when it is on the same filesystem (no second copy of the archive), stored otherwise."""
    if isinstance(store, LocalDiskStore):
        try:
            await asyncio.to_thread(_move, path, store.root / key)
            return
        except OSError:
            pass  # another filesystem: copied below
    await store.put_file(key, path, content_type)


def _move(path: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(path, target)


def write_zip_file(path: Path, members: Iterable[Member]) -> int:
    """Write the ZIP to ``path``; its size."""
    with path.open("wb") as target:
        write_zip(target, members)
        return target.tell()
