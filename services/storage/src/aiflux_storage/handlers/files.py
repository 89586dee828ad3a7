"""Storing checked uploads and outputs, reading, listing and deleting files."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

from aiflux_contracts.storage import FilesErased, FileStored

from ..adapters.multipart import SpooledUpload
from ..adapters.signing import DownloadGrant
from ..bootstrap import StorageContainer
from ..domain import content, keys
from ..domain.errors import AccountErased, FileTruncated, ImageTooLarge, NotFound
from ..domain.files import FileDownload, SignedUrl, StoredFile


def _complete(upload: SpooledUpload) -> bool:
    with upload.path.open("rb") as f:
        return content.is_complete(upload.file_type, f, upload.size)


async def refuse_erased_owner(c: StorageContainer, owner: uuid.UUID) -> None:
    """410 at once for an erased owner, so an upload is not read for nothing (the check that
    counts is the one in the recording transaction: an erasure may start in between)."""
    async with c.records.transaction() as records:
        if await records.is_erased(owner):
            raise AccountErased()


def _oversized(c: StorageContainer, upload: SpooledUpload) -> str | None:
    with upload.path.open("rb") as f:
        return content.oversized_image(
            upload.file_type, f, c.settings.max_image_pixels, c.settings.max_image_side
        )


async def _check_whole(c: StorageContainer, upload: SpooledUpload) -> None:
    """Refuse a truncated file and an image declaring too many pixels."""
    if not await asyncio.to_thread(_complete, upload):
        raise FileTruncated(
            f"The {upload.file_type.media_type} file ends early (truncated or "
            "damaged); upload the whole file."
        )
    oversized = await asyncio.to_thread(_oversized, c, upload)
    if oversized:
        raise ImageTooLarge(
            f"Refused: {oversized}. Scale the image down and upload it again.",
            max_pixels=c.settings.max_image_pixels,
            max_side=c.settings.max_image_side,
        )


async def store_checked_file(
    c: StorageContainer,
    owner: uuid.UUID,
    purpose: str,
    upload: SpooledUpload,
    generation_id: uuid.UUID | None = None,
) -> StoredFile:
    """Store a spooled upload whose type is known: check it is whole, put it, record it.

    The object is written before its metadata; if recording fails (or the owner is being
    erased: 410) the object is removed again, and the orphan sweep catches what a crash in
    between leaves. An erasure that starts after the check waits for this transaction and
    deletes what it wrote.
    """
    await _check_whole(c, upload)
    file_id = uuid.uuid4()
    key = keys.file_key(owner, file_id)
    media = upload.file_type.media_type
    await c.store.put_file(key, upload.path, media)
    record = StoredFile(
        file_id,
        owner,
        media,
        upload.file_type.kind,
        upload.size,
        upload.sha256,
        purpose,
        generation_id,
        key,
        datetime.now(UTC),
    )
    try:
        async with c.records.transaction() as records:
            if await records.is_erased(owner):
                raise AccountErased()
            stored = await records.add_file(record)
            await records.publish(
                FileStored(
                    file_id=file_id, user_id=owner, purpose=purpose, content_type=media, size=upload.size
                )
            )
    except BaseException:
        await c.store.delete_batch([key])
        raise
    return stored


async def owned_file(c: StorageContainer, owner: uuid.UUID, file_id: uuid.UUID) -> StoredFile:
    """The owner's file; another user's file is the same 404 as a missing one."""
    async with c.records.transaction() as records:
        found = await records.get_file(file_id, owner)
    if found is None:
        raise NotFound.of("file")
    return found


async def any_file(c: StorageContainer, file_id: uuid.UUID) -> StoredFile:
    """A file by id, for peer services."""
    async with c.records.transaction() as records:
        found = await records.get_file(file_id)
    if found is None:
        raise NotFound.of("file")
    return found


async def with_download(c: StorageContainer, file: StoredFile) -> FileDownload:
    """The file and a short-lived signed download URL."""
    ttl = c.settings.download_url_ttl_s
    ext = content.extension_for(file.content_type)
    url = await c.store.signed_url(file.object_key, ttl, file.content_type, f"{file.file_id}.{ext}")
    return FileDownload(file, SignedUrl(url, datetime.now(UTC) + timedelta(seconds=ttl)))


async def list_owned(
    c: StorageContainer, owner: uuid.UUID, limit: int, cursor: tuple[datetime, uuid.UUID] | None
) -> list[StoredFile]:
    """One page of the owner's files, newest first."""
    async with c.records.transaction() as records:
        return await records.list_files(owner, limit, cursor)


async def delete_owned(c: StorageContainer, owner: uuid.UUID, file_id: uuid.UUID) -> None:
    """Delete the owner's file: the object first, then its metadata (a retry finishes it)."""
    file = await owned_file(c, owner, file_id)
    await c.store.delete_batch([file.object_key])
    async with c.records.transaction() as records:
        await records.delete_files([file.file_id])
        await records.publish(FilesErased(user_id=owner, objects_deleted=1))


async def open_content(c: StorageContainer, file: StoredFile) -> AsyncIterator[bytes]:
    """The bytes of a file; 404 when its object is gone."""
    if not await c.store.exists(file.object_key):
        raise NotFound("The file's content is gone.")
    return c.store.open(file.object_key)


async def open_download(c: StorageContainer, token: str) -> tuple[DownloadGrant, AsyncIterator[bytes]]:
    """What a signed download link grants, and its bytes; 404 when the object is gone."""
    grant = c.signer.verify(token)
    if not await c.store.exists(grant.key):
        raise NotFound("This file no longer exists.")
    return grant, c.store.open(grant.key)
