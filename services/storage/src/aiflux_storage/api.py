"""Public HTTP routes of the storage service: parse, call a handler, return."""

from __future__ import annotations

import base64
import uuid
from datetime import datetime
from typing import Annotated, Any

from aiflux_kit.auth import CurrentUser
from aiflux_kit.body_limit import streams_own_body
from aiflux_kit.errors import Problem
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from .adapters.multipart import receive_upload
from .container import StorageContainer
from .domain.files import USER_PURPOSES
from .handlers import files
from .internal_api import build_internal_router


def container(request: Request) -> StorageContainer:
    """The storage service's container (same in the one-service and the embedded app)."""
    found: StorageContainer = request.app.state.services["storage"]
    return found


Storage = Annotated[StorageContainer, Depends(container)]


def _encode_cursor(created_at: datetime, file_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{file_id}".encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        when, _, file_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(when), uuid.UUID(file_id)
    except ValueError:
        raise Problem(400, "invalid-cursor", "Invalid cursor",
                      "Use the next_cursor value of the previous page.") from None


def _purpose(value: str | None) -> str:
    purpose = (value or "reference").strip()
    if purpose not in USER_PURPOSES:
        raise Problem(422, "invalid-purpose", "Invalid purpose",
                      f"purpose must be one of: {', '.join(sorted(USER_PURPOSES))}.")
    return purpose


def build_public_router() -> APIRouter:
    """Routes users call with their session."""
    router = APIRouter(tags=["storage"])

    @router.post("/v1/files", status_code=201)
    @streams_own_body  # per-kind limits, checked while the multipart body streams
    async def upload(request: Request, user: CurrentUser, c: Storage) -> dict[str, Any]:
        """Upload a reference file; its type is decided by its content, not by its name."""
        await c.platform.limiter.hit("storage-upload", str(user.user_id), c.settings.upload_rate)
        await files.refuse_erased_owner(c, user.user_id)  # before reading the body
        async with receive_upload(request, c.spool_dir, c.limit_for, c.upload_ceiling) as (
                fields, spooled):
            stored = await files.store_checked_file(c, user.user_id, _purpose(
                fields.get("purpose")), spooled)
        return {"file_id": str(stored.file_id), "content_type": stored.content_type,
                "size": stored.size, "kind": stored.kind, "sha256": stored.sha256,
                "purpose": stored.purpose, "created_at": stored.created_at.isoformat()}

    @router.get("/v1/files")
    async def list_files(user: CurrentUser, c: Storage,
                         limit: Annotated[int, Query(ge=1, le=100)] = 50,
                         cursor: str | None = None) -> dict[str, Any]:
        """The caller's files, newest first, each with a short-lived download URL."""
        page = await files.list_owned(c, user.user_id, limit + 1, _decode_cursor(cursor))
        more = len(page) > limit
        page = page[:limit]
        return {"items": [await files.with_download(c, f) for f in page],
                "next_cursor": _encode_cursor(page[-1].created_at, page[-1].file_id)
                if more else None}

    @router.get("/v1/files/download/{token}", include_in_schema=True)
    async def download(token: str, c: Storage) -> StreamingResponse:
        """Download through a signed link (local-disk store; S3 links go to the bucket)."""
        grant = c.signer.verify(token)
        if not await c.store.exists(grant.key):
            raise Problem(404, "not-found", "Not found", "This file no longer exists.")
        return StreamingResponse(c.store.open(grant.key), media_type=grant.content_type,
                                 headers={"Content-Disposition":
                                          f'attachment; filename="{grant.filename}"',
                                          "Cache-Control": "private, no-store"})

    @router.get("/v1/files/{file_id}")
    async def get_file(file_id: uuid.UUID, user: CurrentUser, c: Storage) -> dict[str, Any]:
        """One of the caller's files with a short-lived download URL; others' are 404."""
        return await files.with_download(c, await files.owned_file(c, user.user_id, file_id))

    @router.delete("/v1/files/{file_id}", status_code=204)
    async def delete_file(file_id: uuid.UUID, user: CurrentUser, c: Storage) -> Response:
        """Delete one of the caller's files, object and metadata."""
        await files.delete_owned(c, user.user_id, file_id)
        return Response(status_code=204)

    return router


def build_router(trusted_callers: dict[str, str]) -> APIRouter:
    """Every route of the storage service."""
    router = APIRouter()
    router.include_router(build_public_router())
    router.include_router(build_internal_router(trusted_callers))
    return router
