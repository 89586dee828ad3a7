"""Storing checked uploads and outputs, reading, listing and deleting files."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiflux_contracts.storage import FilesErased, FileStored
from aiflux_kit.erasure import refuse_if_erased
from aiflux_kit.errors import Problem, not_found
from aiflux_kit.outbox import add_event

from ..adapters import repository as repo
from ..adapters.multipart import SpooledUpload
from ..container import StorageContainer
from ..domain import content, keys
from ..domain.files import StoredFile


def _complete(upload: SpooledUpload) -> bool:
    with upload.path.open("rb") as f:
        return content.is_complete(upload.file_type, f, upload.size)


async def refuse_erased_owner(c: StorageContainer, owner: uuid.UUID) -> None:
    """410 at once for an erased owner, so an upload is not read for nothing (the check that
    counts is the one in the recording transaction: an erasure may start in between)."""
    async with c.database.transaction() as session:
        await refuse_if_erased(session, owner)


def _oversized(c: StorageContainer, upload: SpooledUpload) -> str | None:
    with upload.path.open("rb") as f:
        return content.oversized_image(upload.file_type, f, c.settings.max_image_pixels,
                                       c.settings.max_image_side)


async def store_checked_file(c: StorageContainer, owner: uuid.UUID, purpose: str,
                             upload: SpooledUpload,
                             generation_id: uuid.UUID | None = None) -> StoredFile:
    """Store a spooled upload whose type is known: check it is whole, put it, record it.

    The object is written before its metadata; if recording fails (or the owner is being
    erased: 410) the object is removed again, and the orphan sweep catches what a crash in
    between leaves. An erasure that starts after the check waits for this transaction and
    deletes what it wrote.
    """
    if not await asyncio.to_thread(_complete, upload):
        raise Problem(422, "file-truncated", "File is incomplete",
                      f"The {upload.file_type.media_type} file ends early (truncated or "
                      "damaged); upload the whole file.")
    oversized = await asyncio.to_thread(_oversized, c, upload)
    if oversized:
        raise Problem(422, "image-too-large", "Image too large",
                      f"Refused: {oversized}. Scale the image down and upload it again.",
                      max_pixels=c.settings.max_image_pixels,
                      max_side=c.settings.max_image_side)
    file_id = uuid.uuid4()
    key = keys.file_key(owner, file_id)
    media = upload.file_type.media_type
    await c.store.put_file(key, upload.path, media)
    record = StoredFile(file_id, owner, media, upload.file_type.kind, upload.size,
                        upload.sha256, purpose, generation_id, key, datetime.now(UTC))
    try:
        async with c.database.transaction() as session:
            await refuse_if_erased(session, owner)
            stored = await repo.add_file(session, record)
            await add_event(session, FileStored(file_id=file_id, user_id=owner, purpose=purpose,
                                                content_type=media, size=upload.size))
    except BaseException:
        await c.store.delete_batch([key])
        raise
    return stored


async def owned_file(c: StorageContainer, owner: uuid.UUID, file_id: uuid.UUID) -> StoredFile:
    """The owner's file; another user's file is the same 404 as a missing one."""
    async with c.database.transaction() as session:
        found = await repo.get_file(session, file_id, owner)
    if found is None:
        raise not_found("file")
    return found


async def any_file(c: StorageContainer, file_id: uuid.UUID) -> StoredFile:
    """A file by id, for peer services."""
    async with c.database.transaction() as session:
        found = await repo.get_file(session, file_id)
    if found is None:
        raise not_found("file")
    return found


async def with_download(c: StorageContainer, file: StoredFile) -> dict[str, Any]:
    """The file's metadata plus a short-lived signed download URL."""
    ttl = c.settings.download_url_ttl_s
    ext = content.extension_for(file.content_type)
    url = await c.store.signed_url(file.object_key, ttl, file.content_type,
                                   f"{file.file_id}.{ext}")
    body = file.public()
    body.pop("user_id")
    body["download_url"] = url
    body["download_url_expires_at"] = (datetime.now(UTC) + timedelta(seconds=ttl)).isoformat()
    return body


async def list_owned(c: StorageContainer, owner: uuid.UUID, limit: int,
                     cursor: tuple[datetime, uuid.UUID] | None) -> list[StoredFile]:
    """One page of the owner's files, newest first."""
    async with c.database.transaction() as session:
        return await repo.list_files(session, owner, limit, cursor)


async def delete_owned(c: StorageContainer, owner: uuid.UUID, file_id: uuid.UUID) -> None:
    """Delete the owner's file: the object first, then its metadata (a retry finishes it)."""
    file = await owned_file(c, owner, file_id)
    await c.store.delete_batch([file.object_key])
    async with c.database.transaction() as session:
        await repo.delete_files(session, [file.file_id])
        await add_event(session, FilesErased(user_id=owner, objects_deleted=1))
