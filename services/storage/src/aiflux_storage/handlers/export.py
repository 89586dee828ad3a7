"""Access exports: parts written by every service, the archive, and storage's own part."""

from __future__ import annotations

import asyncio
import json
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiflux_contracts import ExportPartReady, ExportRequested
from aiflux_kit.consumers import HandlerContext

from ..adapters import archive
from ..bootstrap import StorageContainer
from ..domain import keys
from ..domain.errors import AccountErased, ExportOwnerMismatch, NotFound
from ..domain.exports import ARCHIVE_NAME, STORAGE_PART, ArchivePlan, ExportObject, StoredExportObject
from ..domain.files import SignedUrl, StoredFile
from .ports import Records

log = logging.getLogger(__name__)


def _expiry(c: StorageContainer) -> datetime:
    return datetime.now(UTC) + timedelta(days=c.settings.export_ttl_days)


async def _claim_export(
    c: StorageContainer, records: Records, request_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """In ``records``' transaction, make sure the export is ``user_id``'s (remembering it on its
    first object): refused (410) for an erased user and (409) for another user's export."""
    if await records.is_erased(user_id):
        raise AccountErased()
    if await records.remember_export(request_id, user_id, _expiry(c)) != user_id:
        raise ExportOwnerMismatch()


async def _record_export_object(
    c: StorageContainer,
    records: Records,
    request_id: uuid.UUID,
    user_id: uuid.UUID,
    name: str,
    key: str,
    size: int,
) -> None:
    """Record an export object for its user, unless the user is erased or the export is
    another user's; the object is already in the store, so a refusal deletes it again."""
    try:
        await _claim_export(c, records, request_id, user_id)
        await records.add_export_object(request_id, name, key, size, _expiry(c))
    except BaseException:
        await c.store.delete_batch([key])
        raise


async def store_export_object(
    c: StorageContainer,
    records: Records,
    request_id: uuid.UUID,
    user_id: uuid.UUID,
    name: str,
    key: str,
    body: AsyncIterator[bytes],
    content_type: str,
) -> int:
    """Stream one export object to the store and record it in ``records``' transaction."""
    size = await c.store.put_stream(key, body, content_type)
    await _record_export_object(c, records, request_id, user_id, name, key, size)
    return size


async def put_part(
    c: StorageContainer, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: AsyncIterator[bytes]
) -> StoredExportObject:
    """Store one export part of ``user_id`` (replacing an earlier one of the same name)."""
    key = keys.export_part_key(request_id, name)
    async with c.records.transaction() as records:
        size = await store_export_object(
            c, records, request_id, user_id, name, key, body, "application/octet-stream"
        )
    return StoredExportObject(key, name, size, _expiry(c))


async def list_parts(c: StorageContainer, request_id: uuid.UUID) -> list[ExportObject]:
    """The parts of one export (not the archive)."""
    async with c.records.transaction() as records:
        found = await records.export_objects(request_id)
    return [o for o in found if o.key != keys.export_archive_key(request_id)]


async def open_part(c: StorageContainer, request_id: uuid.UUID, name: str) -> AsyncIterator[bytes]:
    """The bytes of one part; 404 when it was never written (or has expired)."""
    key = keys.export_part_key(request_id, name)
    if not await c.store.exists(key):
        raise NotFound.of("export part")
    return c.store.open(key)


async def put_archive(
    c: StorageContainer, request_id: uuid.UUID, user_id: uuid.UUID, body: AsyncIterator[bytes]
) -> StoredExportObject:
    """Store the finished archive of ``user_id`` (streamed; it expires with the export)."""
    key = keys.export_archive_key(request_id)
    async with c.records.transaction() as records:
        size = await store_export_object(
            c, records, request_id, user_id, ARCHIVE_NAME, key, body, "application/zip"
        )
    return StoredExportObject(key, ARCHIVE_NAME, size, _expiry(c))


async def build_archive(
    c: StorageContainer, request_id: uuid.UUID, user_id: uuid.UUID, plan: ArchivePlan
) -> StoredExportObject:
    """Assemble the export's ZIP from storage's own store, as ``plan`` lists it, and store it.

    Refused (410) for an erased user and (409) for another user's export; 404 when a listed
    part was never written or a listed file is not (or no longer) the owner's. The ZIP is
    written in a worker thread to a spool file, members read straight from the store, then
    moved into place and recorded like any export object.
    """
    async with c.records.transaction() as records:
        await _claim_export(c, records, request_id, user_id)
        parts = {o.name: o for o in await records.export_objects(request_id)}
        files = {f.file_id: f for f in await records.list_files(user_id)}
    members = [archive.of_bytes("manifest.json", plan.manifest)]
    for member, name in plan.parts:
        part = parts.get(name)
        if part is None or part.key == keys.export_archive_key(request_id):
            raise NotFound.of("export part")
        members.append(archive.of_object(c.store, part.key, member, True, part.size))
    for member, file_id in plan.files:
        file = files.get(file_id)
        if file is None:
            raise NotFound.of("file")
        deflate = archive.deflated(file.content_type)
        members.append(archive.of_object(c.store, file.object_key, member, deflate, file.size))
    key = keys.export_archive_key(request_id)
    await asyncio.to_thread(c.spool_dir.mkdir, parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=c.spool_dir, prefix="archive-") as folder:
        path = Path(folder) / ARCHIVE_NAME
        try:
            size = await asyncio.to_thread(archive.write_zip_file, path, members)
        except KeyError:
            raise NotFound.of("export object") from None  # deleted meanwhile (an erasure)
        await archive.install(c.store, key, path, "application/zip")
    async with c.records.transaction() as records:
        await _record_export_object(c, records, request_id, user_id, ARCHIVE_NAME, key, size)
    return StoredExportObject(key, ARCHIVE_NAME, size, _expiry(c))


async def archive_url(c: StorageContainer, request_id: uuid.UUID) -> SignedUrl:
    """A short-lived signed URL of the archive; 404 when there is none (or it expired)."""
    key = keys.export_archive_key(request_id)
    if not await c.store.exists(key):
        raise NotFound.of("export archive")
    ttl = c.settings.download_url_ttl_s
    url = await c.store.signed_url(key, ttl, "application/zip", f"aiflux-export-{request_id}.zip")
    return SignedUrl(url, datetime.now(UTC) + timedelta(seconds=ttl))


async def user_files(c: StorageContainer, user_id: uuid.UUID) -> list[StoredFile]:
    """Every file of the user (for the export)."""
    async with c.records.transaction() as records:
        return await records.list_files(user_id)


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def write_storage_part(c: StorageContainer, ctx: HandlerContext, event: ExportRequested) -> None:
    """Write ``storage.json`` (the user's files) and tell privacy which objects to include.

    ``objects`` lists the part and then ``files/<file_id>`` for every file: privacy copies each
    file's content into the archive through storage's internal content route. An erased user's
    export was cancelled by the erasure: the event finishes without a part.
    """
    records = c.records.within(ctx)
    if await records.is_erased(event.user_id):
        log.info("export of an erased user skipped", extra={"request_id": str(event.request_id)})
        return
    files = await records.list_files(event.user_id)
    exported: list[dict[str, Any]] = [f.exported(c.settings.public_url) for f in files]
    document = {"service": "storage", "user_id": str(event.user_id), "files": exported}
    data = json.dumps(document, indent=2, sort_keys=True).encode()
    await store_export_object(
        c,
        records,
        event.request_id,
        event.user_id,
        STORAGE_PART,
        keys.export_part_key(event.request_id, STORAGE_PART),
        _one_chunk(data),
        "application/octet-stream",
    )
    # model_validate: the per-service receipt classes are built at runtime (typed as Event).
    await records.publish(
        ExportPartReady["storage"].model_validate(
            {
                "request_id": event.request_id,
                "user_id": event.user_id,
                "prefix": keys.export_prefix(event.request_id) + "parts/",
                "objects": [STORAGE_PART, *(f"files/{f.file_id}" for f in files)],
            }
        )
    )
