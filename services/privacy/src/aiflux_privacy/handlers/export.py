"""Access and portability exports: collect a part from every service, then build ONE ZIP
streaming (parts, the user's files, a manifest), store it with storage and mail the link.

Memory stays flat whatever the user holds: each member is copied chunk by chunk from storage
into the ZIP stream, which goes to storage chunk by chunk (``stream-zip`` writes ZIP64 with
data descriptors, so no size has to be known up front).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import mimetypes
import stat
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiflux_contracts import ExportPartReady, ExportRequested, UserNotificationRequested
from aiflux_contracts.receipts import ExportPartReadyBase
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.db import Database
from aiflux_kit.erasure import is_erased
from aiflux_kit.outbox import add_event
from stream_zip import ZIP_64, async_stream_zip

from ..adapters import repositories as store
from ..adapters.peers import ExportCancelled, StorageClient
from ..adapters.repositories import find_request, steps_of
from ..domain import erasure as rules
from ..domain.catalog import export_manifest
from ..domain.records import PrivacyRequest
from ..domain.requests import EXPORT_TYPES, Status
from .own_data import export_document

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=30)
Member = tuple[str, datetime, int, Any, AsyncIterator[bytes]]


async def on_export_requested(ctx: HandlerContext, event: ExportRequested, storage: StorageClient) -> None:
    """Privacy's own part: ``privacy.json`` (consents and requests).

    None for an erased user: the erasure cancelled the export, so the event just finishes.
    """
    if await is_erased(ctx.session, event.user_id):
        return
    document = await export_document(ctx.session, event.user_id)
    body = json.dumps(document, indent=2, default=str).encode()
    try:
        await storage.put_export_object(event.request_id, event.user_id, "privacy.json", body)
    except ExportCancelled:
        return
    part = cast(type[ExportPartReadyBase], ExportPartReady["privacy"])
    await ctx.publish(
        part(
            request_id=event.request_id,
            user_id=event.user_id,
            prefix=f"exports/{event.request_id}/",
            objects=["privacy.json"],
        )
    )


async def on_part_ready(ctx: HandlerContext, service: str, event: ExportPartReadyBase) -> None:
    """Record one service's part; when all five are in, the archive can be built.

    A part of a request that is no longer collecting (cancelled or erased) is not recorded.
    """
    now = datetime.now(UTC)
    row = await find_request(ctx.session, event.request_id, lock=True)
    if row is None or row.type not in EXPORT_TYPES or row.status != Status.IN_PROGRESS:
        return
    part = {"prefix": event.prefix, "objects": list(event.objects)}
    await store.save_receipt(ctx.session, event.request_id, service, part, now)
    answered = await store.answered_services(ctx.session, event.request_id)
    status = Status.IN_PROGRESS if rules.missing(answered) else Status.ASSEMBLING
    await store.set_request(ctx.session, event.request_id, status=status, progress_at=now)


def _member(name: str, chunks: AsyncIterator[bytes]) -> Member:
    return (name, datetime.now(UTC), stat.S_IFREG | 0o600, ZIP_64, chunks)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _file_name(meta: dict[str, Any]) -> str:
    extension = mimetypes.guess_extension(meta.get("content_type") or "") or ""
    folder = "generated" if meta.get("purpose") == "output" else "uploads"
    return f"files/{folder}/{meta['file_id']}{extension}"


async def archive_members(
    storage: StorageClient, row: PrivacyRequest, user_id: uuid.UUID, parts: dict[str, list[str]]
) -> AsyncIterator[Member]:
    """The ZIP's members in order: manifest, each service's part, the user's files."""
    files = await storage.user_files(user_id)
    names = [_file_name(meta) for meta in files]
    listed = {
        service: [o for o in objects if not o.startswith("files/")] for service, objects in parts.items()
    }
    manifest = export_manifest(str(row.id), row.type, datetime.now(UTC).isoformat(), listed, names)
    yield _member("manifest.json", _once(json.dumps(manifest, indent=2).encode()))
    for objects in parts.values():
        # ``files/...`` entries (storage's part) name the user's files, taken from the list above.
        for obj in (o for o in objects if not o.startswith("files/")):
            yield _member(f"data/{obj}", storage.stream_export_object(row.id, obj))
    for meta, name in zip(files, names, strict=True):
        yield _member(name, storage.stream_file(str(meta["file_id"])))


async def build_archive(
    database: Database, storage: StorageClient, request_id: uuid.UUID, public_url: str, keep_days: int
) -> None:
    """Build and store one export archive, then ask identity to mail the link.

    Never for an erased user: the erasure cancels the request (storage refuses the archive
    too), and the link is mailed only if the request is still ASSEMBLING once it is stored.
    """
    async with database.transaction() as session:
        row = await find_request(session, request_id)
        if row is None or row.user_id is None or await is_erased(session, row.user_id):
            return
        steps = await steps_of(session, request_id)
    parts = {s.service: list((s.receipt or {}).get("objects", [])) for s in steps}
    try:
        await storage.put_archive(
            request_id, row.user_id, async_stream_zip(archive_members(storage, row, row.user_id, parts))
        )
    except ExportCancelled:
        return  # the erasure cancels the request (or has already deleted it)
    expires_at = datetime.now(UTC) + timedelta(days=keep_days)
    async with database.transaction() as session:
        if await is_erased(session, row.user_id):
            return
        done = await store.set_request_in(
            session,
            request_id,
            Status.ASSEMBLING,
            status=Status.COMPLETED,
            outcome="exported",
            closed_at=datetime.now(UTC),
            archive_expires_at=expires_at,
        )
        if not done:
            return
        await add_event(
            session,
            UserNotificationRequested(
                user_id=row.user_id,
                template="export_ready",
                params={
                    "request_id": str(request_id),
                    "expires_at": expires_at.isoformat(),
                    "download_url": f"{public_url.rstrip('/')}/v1/privacy/requests/{request_id}/download",
                },
            ),
        )


async def assemble_due(database: Database, storage: StorageClient, public_url: str, keep_days: int) -> int:
    """Build every archive whose parts are all in; a failure is retried a little later."""
    async with database.transaction() as session:
        due = await store.request_ids_in(session, Status.ASSEMBLING, datetime.now(UTC))
    built = 0
    for request_id in due:
        try:
            await build_archive(database, storage, request_id, public_url, keep_days)
            built += 1
        except Exception:
            log.exception("export archive failed", extra={"request_id": str(request_id)})
            async with database.transaction() as session:
                await store.set_request(session, request_id, progress_at=datetime.now(UTC) + RETRY_AFTER)
    return built


def assembler(
    database: Database, storage: StorageClient, public_url: str, keep_days: int, interval_s: float
) -> Callable[[asyncio.Event], Awaitable[None]]:
    """The worker that builds archives until the runtime stops."""

    async def run(stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await assemble_due(database, storage, public_url, keep_days)
            except Exception:
                log.exception("export assembler pass failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval_s)

    return run
