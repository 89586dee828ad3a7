"""Access exports: parts written by every service, the archive, and storage's own part."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiflux_contracts import ExportPartReady, ExportRequested
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import is_erased, refuse_if_erased
from aiflux_kit.errors import Problem, not_found
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import repository as repo
from ..container import StorageContainer
from ..domain import keys

STORAGE_PART = "storage.json"
ARCHIVE_NAME = "archive.zip"
log = logging.getLogger(__name__)


def _expiry(c: StorageContainer) -> datetime:
    return datetime.now(UTC) + timedelta(days=c.settings.export_ttl_days)


async def _record_export_object(c: StorageContainer, session: AsyncSession,
                                request_id: uuid.UUID, user_id: uuid.UUID, name: str,
                                key: str, size: int) -> None:
    """Record an export object for its user, unless the user is erased or the export is
    another user's; the object is already in the store, so a refusal deletes it again."""
    try:
        await refuse_if_erased(session, user_id)
        if await repo.remember_export(session, request_id, user_id, _expiry(c)) != user_id:
            raise Problem(409, "export-owner-mismatch", "Export of another user",
                          "This export request belongs to another user.")
        await repo.add_export_object(session, request_id, name, key, size, _expiry(c))
    except BaseException:
        await c.store.delete_batch([key])
        raise


async def store_export_object(c: StorageContainer, session: AsyncSession,
                              request_id: uuid.UUID, user_id: uuid.UUID, name: str, key: str,
                              body: AsyncIterator[bytes], content_type: str) -> int:
    """Stream one export object to the store and record it in ``session``'s transaction."""
    size = await c.store.put_stream(key, body, content_type)
    await _record_export_object(c, session, request_id, user_id, name, key, size)
    return size


async def put_part(c: StorageContainer, request_id: uuid.UUID, user_id: uuid.UUID, name: str,
                   body: AsyncIterator[bytes]) -> dict[str, Any]:
    """Store one export part of ``user_id`` (replacing an earlier one of the same name)."""
    key = keys.export_part_key(request_id, name)
    async with c.database.transaction() as session:
        size = await store_export_object(c, session, request_id, user_id, name, key, body,
                                         "application/octet-stream")
    return {"key": key, "name": name, "size": size}


async def list_parts(c: StorageContainer, request_id: uuid.UUID) -> list[dict[str, Any]]:
    """The parts of one export (not the archive)."""
    async with c.database.transaction() as session:
        rows = await repo.export_objects(session, request_id)
    return [{"name": r.name, "key": r.object_key, "size": r.size,
             "created_at": r.created_at.isoformat()}
            for r in rows if r.object_key != keys.export_archive_key(request_id)]


async def open_part(c: StorageContainer, request_id: uuid.UUID,
                    name: str) -> AsyncIterator[bytes]:
    """The bytes of one part; 404 when it was never written (or has expired)."""
    key = keys.export_part_key(request_id, name)
    if not await c.store.exists(key):
        raise not_found("export part")
    return c.store.open(key)


async def put_archive(c: StorageContainer, request_id: uuid.UUID, user_id: uuid.UUID,
                      body: AsyncIterator[bytes]) -> dict[str, Any]:
    """Store the finished archive of ``user_id`` (streamed; it expires with the export)."""
    key = keys.export_archive_key(request_id)
    async with c.database.transaction() as session:
        size = await store_export_object(c, session, request_id, user_id, ARCHIVE_NAME, key,
                                         body, "application/zip")
    return {"key": key, "size": size, "expires_at": _expiry(c).isoformat()}


async def archive_url(c: StorageContainer, request_id: uuid.UUID) -> dict[str, Any]:
    """A short-lived signed URL of the archive; 404 when there is none (or it expired)."""
    key = keys.export_archive_key(request_id)
    if not await c.store.exists(key):
        raise not_found("export archive")
    ttl = c.settings.download_url_ttl_s
    url = await c.store.signed_url(key, ttl, "application/zip", f"aiflux-export-{request_id}.zip")
    return {"url": url, "expires_at": (datetime.now(UTC) + timedelta(seconds=ttl)).isoformat()}


async def user_files(c: StorageContainer, session: Any, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """Every file of the user, as exported: metadata and the API URL its owner opens it by
    (the archive carries the contents; never an internal path or object key)."""
    files = await repo.list_files(session, user_id)
    base = c.settings.public_url.rstrip("/")
    return [{**f.public(), "url": f"{base}/v1/files/{f.file_id}"} for f in files]


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def write_storage_part(c: StorageContainer, ctx: HandlerContext,
                             event: ExportRequested) -> None:
    """Write ``storage.json`` (the user's files) and tell privacy which objects to include.

    ``objects`` lists the part and then ``files/<file_id>`` for every file: privacy copies each
    file's content into the archive through storage's internal content route. An erased user's
    export was cancelled by the erasure: the event finishes without a part.
    """
    if await is_erased(ctx.session, event.user_id):
        log.info("export of an erased user skipped", extra={"request_id": str(event.request_id)})
        return
    files = await user_files(c, ctx.session, event.user_id)
    document = {"service": "storage", "user_id": str(event.user_id), "files": files}
    data = json.dumps(document, indent=2, sort_keys=True).encode()
    await store_export_object(c, ctx.session, event.request_id, event.user_id, STORAGE_PART,
                              keys.export_part_key(event.request_id, STORAGE_PART),
                              _one_chunk(data), "application/octet-stream")
    await ctx.publish(ExportPartReady["storage"](
        request_id=event.request_id, user_id=event.user_id,
        prefix=keys.export_prefix(event.request_id) + "parts/",
        objects=[STORAGE_PART, *(f"files/{f['file_id']}" for f in files)]))
