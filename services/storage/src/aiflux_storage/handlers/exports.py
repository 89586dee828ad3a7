"""Access exports: parts written by every service, the archive, and storage's own part."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

from aiflux_contracts import ExportPartReady, ExportRequested
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.errors import not_found

from ..adapters import repository as repo
from ..container import StorageContainer
from ..domain import keys

STORAGE_PART = "storage.json"
ARCHIVE_NAME = "archive.zip"


def _expiry(c: StorageContainer) -> datetime:
    return datetime.now(UTC) + timedelta(days=c.settings.export_ttl_days)


async def put_part(c: StorageContainer, request_id: uuid.UUID, name: str,
                   body: AsyncIterator[bytes]) -> dict[str, Any]:
    """Store one export part (replacing an earlier one of the same name)."""
    key = keys.export_part_key(request_id, name)
    size = await c.store.put_stream(key, body, "application/octet-stream")
    async with c.database.transaction() as session:
        await repo.add_export_object(session, request_id, name, key, size, _expiry(c))
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


async def put_archive(c: StorageContainer, request_id: uuid.UUID,
                      body: AsyncIterator[bytes]) -> dict[str, Any]:
    """Store the finished archive (streamed; it expires with the export)."""
    key = keys.export_archive_key(request_id)
    size = await c.store.put_stream(key, body, "application/zip")
    expires_at = _expiry(c)
    async with c.database.transaction() as session:
        await repo.add_export_object(session, request_id, ARCHIVE_NAME, key, size, expires_at)
    return {"key": key, "size": size, "expires_at": expires_at.isoformat()}


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
    file's content into the archive through storage's internal content route.
    """
    await repo.remember_export(ctx.session, event.request_id, event.user_id, _expiry(c))
    files = await user_files(c, ctx.session, event.user_id)
    document = {"service": "storage", "user_id": str(event.user_id), "files": files}
    data = json.dumps(document, indent=2, sort_keys=True).encode()
    await put_part(c, event.request_id, STORAGE_PART, _one_chunk(data))
    await ctx.publish(ExportPartReady["storage"](
        request_id=event.request_id, user_id=event.user_id,
        prefix=keys.export_prefix(event.request_id) + "parts/",
        objects=[STORAGE_PART, *(f"files/{f['file_id']}" for f in files)]))
