"""Access and portability exports: collect a part from every service, then have storage build
ONE ZIP (a manifest, every part, the user's files) and mail the link.

Storage assembles the ZIP from its own store: privacy sends the plan (the manifest and which
parts and files go where) in one call, never the bytes, so no file crosses the network twice.
The build starts when the transaction recording the last part commits.
"""

from __future__ import annotations

import asyncio
import json
import logging
import mimetypes
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from aiflux_contracts import ExportPartReady, ExportRequested, UserNotificationRequested
from aiflux_contracts.receipts import ExportPartReadyBase
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.db import Database
from aiflux_kit.erasure import is_erased
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import repositories as store
from ..adapters.peers import ExportCancelled, StorageClient
from ..adapters.repositories import find_request, steps_of
from ..adapters.transactions import on_commit
from ..domain import erasure as rules
from ..domain.catalog import export_manifest
from ..domain.records import PrivacyRequest
from ..domain.requests import EXPORT_TYPES, Status
from .own_data import export_document

log = logging.getLogger(__name__)

RETRY_AFTER = timedelta(seconds=30)


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


async def on_part_ready(
    ctx: HandlerContext, service: str, event: ExportPartReadyBase, assembler: Assembler | None = None
) -> None:
    """Record one service's part; when all five are in, the archive is built: ``assembler``
    starts as soon as this transaction commits (no poll between the last part and the build).

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
    if status == Status.ASSEMBLING and assembler is not None:
        assembler.due_after_commit(ctx.session)


def _file_name(meta: dict[str, Any]) -> str:
    extension = mimetypes.guess_extension(meta.get("content_type") or "") or ""
    folder = "generated" if meta.get("purpose") == "output" else "uploads"
    return f"files/{folder}/{meta['file_id']}{extension}"


def archive_plan(
    row: PrivacyRequest, parts: dict[str, list[str]], files: list[dict[str, Any]]
) -> dict[str, Any]:
    """What storage puts in the ZIP, in order: the manifest, each service's part (under
    ``data/``), the user's files (under ``files/``)."""
    names = [_file_name(meta) for meta in files]
    # ``files/...`` entries (storage's part) name the user's files, listed by storage itself.
    listed = {
        service: [o for o in objects if not o.startswith("files/")] for service, objects in parts.items()
    }
    manifest = export_manifest(str(row.id), row.type, datetime.now(UTC).isoformat(), listed, names)
    return {
        "manifest": manifest,
        "parts": [{"member": f"data/{o}", "part": o} for objects in listed.values() for o in objects],
        "files": [{"member": n, "file_id": str(m["file_id"])} for m, n in zip(files, names, strict=True)],
    }


async def build_archive(
    database: Database, storage: StorageClient, request_id: uuid.UUID, public_url: str, keep_days: int
) -> None:
    """Have storage build and store one export archive from its own store, then ask identity
    to mail the link.

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
        files = await storage.user_files(row.user_id)
        await storage.build_archive(request_id, row.user_id, archive_plan(row, parts, files))
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


class Assembler:
    """The worker that builds archives: at once when the transaction recording a request's
    last part commits (:meth:`due`), and every ``interval_s`` for what a pass left to retry
    (a failed build, a restart)."""

    def __init__(
        self, database: Database, storage: StorageClient, public_url: str, keep_days: int, interval_s: float
    ) -> None:
        self._args = (database, storage, public_url, keep_days)
        self._interval_s = interval_s
        self._due = asyncio.Event()

    def due(self) -> None:
        """Start a pass now (or right after the running one)."""
        self._due.set()

    def due_after_commit(self, session: AsyncSession) -> None:
        """Start a pass once ``session``'s transaction commits (its rows are then visible)."""
        on_commit(session, self.due)

    async def run(self, stop: asyncio.Event) -> None:
        """Build due archives until ``stop`` is set."""
        while not stop.is_set():
            self._due.clear()
            try:
                await assemble_due(*self._args)
            except Exception:
                log.exception("export assembler pass failed")
            await _first(stop, self._due, self._interval_s)


async def _first(stop: asyncio.Event, due: asyncio.Event, timeout_s: float) -> None:
    """Return when either event is set, or after ``timeout_s``."""
    waits = [asyncio.create_task(stop.wait()), asyncio.create_task(due.wait())]
    try:
        await asyncio.wait(waits, timeout=timeout_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
