"""The object store behind one interface: local disk (embedded mode) or the S3 API (R2).

Every method is async; blocking I/O runs in worker threads so the event loop never waits.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from .signing import UrlSigner

CHUNK = 256 * 1024
DELETE_BATCH = 1000
"""DeleteObjects accepts at most 1,000 keys per call."""


@dataclass(frozen=True)
class ObjectInfo:
    """One listed object."""

    key: str
    size: int
    last_modified: datetime


class ObjectStore(Protocol):
    """What storage needs from an object store."""

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Store the local file at ``path`` under ``key``."""

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        """Store a stream under ``key`` without holding it in memory; return its size."""

    def open(self, key: str) -> AsyncIterator[bytes]:
        """The object's bytes in chunks; raises KeyError when it does not exist."""

    async def exists(self, key: str) -> bool:
        """True when ``key`` is stored."""

    async def list_prefix(self, prefix: str, limit: int | None = None) -> list[ObjectInfo]:
        """Objects under ``prefix`` (at most ``limit``), in key order."""

    def key_pages(self, prefix: str) -> AsyncIterator[list[str]]:
        """Keys under ``prefix`` in pages of at most 1,000, from one walk (one listing pass):
        the caller may delete each page before asking for the next."""

    async def delete_batch(self, keys: list[str]) -> int:
        """Delete at most 1,000 keys in one call; return how many were asked to be deleted."""

    async def signed_url(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        """A URL that downloads ``key`` without other credentials until it expires."""


async def delete_prefix(store: ObjectStore, prefix: str) -> int:
    """Delete everything under ``prefix`` in batches of at most 1,000 keys, listing it once
    (linear in the number of objects); return the count."""
    deleted = 0
    async for page in store.key_pages(prefix):
        deleted += await store.delete_batch(page)
    return deleted


async def delete_keys(store: ObjectStore, keys: list[str]) -> int:
    """Delete ``keys`` in batches of at most 1,000; return how many were deleted."""
    deleted = 0
    for start in range(0, len(keys), DELETE_BATCH):
        deleted += await store.delete_batch(keys[start : start + DELETE_BATCH])
    return deleted


class LocalDiskStore:
    """Objects as files under ``root`` (embedded mode); downloads via signed (JWT) storage URLs."""

    def __init__(self, root: Path, spool: Path, url_signer: UrlSigner) -> None:
        self.root = root
        self._spool = spool
        self._signer = url_signer

    def _path(self, key: str) -> Path:
        if not key or key.startswith("/") or ".." in key.split("/"):
            raise ValueError("invalid object key")
        return self.root / key

    async def put_file(self, key: str, path: Path, content_type: str) -> None:
        """Copy ``path`` into place atomically (write aside, then rename)."""
        await asyncio.to_thread(self._install, key, path)

    def _install(self, key: str, path: Path) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        self._spool.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._spool, prefix="obj-")
        os.close(fd)
        try:
            shutil.copyfile(path, tmp)
            os.replace(tmp, target)
        finally:
            Path(tmp).unlink(missing_ok=True)

    async def put_stream(self, key: str, chunks: AsyncIterator[bytes], content_type: str) -> int:
        """Write the stream to a spool file, then move it into place."""
        await asyncio.to_thread(self._spool.mkdir, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self._spool, prefix="stream-")
        size = 0
        try:
            with os.fdopen(fd, "wb") as out:
                async for chunk in chunks:
                    size += len(chunk)
                    await asyncio.to_thread(out.write, chunk)
            await asyncio.to_thread(self._install, key, Path(tmp))
        finally:
            await asyncio.to_thread(Path(tmp).unlink, missing_ok=True)
        return size

    async def open(self, key: str) -> AsyncIterator[bytes]:
        """Read the file in chunks, each in a worker thread."""
        path = self._path(key)
        try:
            handle = await asyncio.to_thread(path.open, "rb")
        except FileNotFoundError:
            raise KeyError(key) from None
        try:
            while chunk := await asyncio.to_thread(handle.read, CHUNK):
                yield chunk
        finally:
            handle.close()

    async def exists(self, key: str) -> bool:
        """True when the file exists."""
        return await asyncio.to_thread(self._path(key).is_file)

    async def list_prefix(self, prefix: str, limit: int | None = None) -> list[ObjectInfo]:
        """Walk the directory of ``prefix`` and keep matching keys, in key order."""
        return await asyncio.to_thread(self._list, prefix, limit)

    async def key_pages(self, prefix: str) -> AsyncIterator[list[str]]:
        """One walk of the prefix's folder (no stat per file), then its keys 1,000 at a time."""
        found = await asyncio.to_thread(self._keys, prefix)
        for start in range(0, len(found), DELETE_BATCH):
            yield found[start : start + DELETE_BATCH]

    def _keys(self, prefix: str) -> list[str]:
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        found: list[str] = []
        stack = [base]
        while stack:
            try:
                entries = list(os.scandir(stack.pop()))
            except (FileNotFoundError, NotADirectoryError):
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(Path(entry.path))
                elif entry.is_file(follow_symlinks=False):
                    key = Path(entry.path).relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        found.append(key)
        found.sort()
        return found

    def _list(self, prefix: str, limit: int | None) -> list[ObjectInfo]:
        base = self.root / prefix.rsplit("/", 1)[0] if "/" in prefix else self.root
        if not base.is_dir():
            return []
        found = []
        for path in base.rglob("*"):
            key = path.relative_to(self.root).as_posix()
            if path.is_file() and key.startswith(prefix):
                stat = path.stat()
                found.append(ObjectInfo(key, stat.st_size, datetime.fromtimestamp(stat.st_mtime, UTC)))
        found.sort(key=lambda o: o.key)
        return found[:limit] if limit is not None else found

    async def delete_batch(self, keys: list[str]) -> int:
        """Unlink each file (missing ones count as deleted: deletion is idempotent)."""
        assert len(keys) <= DELETE_BATCH
        await asyncio.to_thread(self._unlink_all, keys)
        return len(keys)

    def _unlink_all(self, keys: list[str]) -> None:
        folders = set()
        for key in keys:
            path = self._path(key)
            path.unlink(missing_ok=True)
            folders.add(path.parent)
        # Once per batch, deepest first: a folder left with nothing goes with its deleted files.
        for folder in sorted(folders, key=lambda f: len(f.parts), reverse=True):
            self._prune(folder)

    def _prune(self, folder: Path) -> None:
        # Empty folders would keep the shape of a deleted user's data; remove them. rmdir
        # refuses a folder that still holds something, so no folder is listed (listing one
        # after every unlink made deleting N files cost N² directory reads).
        while folder != self.root:
            try:
                folder.rmdir()
            except OSError:  # not empty, or already gone
                return
            folder = folder.parent

    async def signed_url(self, key: str, ttl_s: int, content_type: str, filename: str) -> str:
        """A storage download route URL carrying a signed, expiring token (JWT)."""
        return self._signer.url(key, ttl_s, content_type, filename)
