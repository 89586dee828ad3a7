"""Public routes of the storage service (``/v1/files``): parse, call a handler, answer."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime
from typing import Annotated

from aiflux_kit.auth import CurrentUser
from aiflux_kit.body_limit import streams_own_body
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from ..adapters.multipart import receive_upload
from ..bootstrap import Container
from ..domain.errors import InvalidCursor
from ..domain.files import user_purpose
from ..handlers import files
from ..schemas import (
    FILE_MEDIA_TYPES,
    OwnedFile,
    OwnedFilePage,
    UploadedFile,
    UploadForm,
    binary_answer,
    multipart_body,
)

router = APIRouter(tags=["storage"])

Limit = Annotated[int, Query(ge=1, le=100, description="page size")]


def _encode_cursor(created_at: datetime, file_id: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(f"{created_at.isoformat()}|{file_id}".encode()).decode()


def _decode_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    try:
        when, _, file_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(when), uuid.UUID(file_id)
    except (ValueError, binascii.Error):
        raise InvalidCursor() from None


@router.post(
    "/v1/files",
    status_code=201,
    response_model=UploadedFile,
    summary="Upload a reference file",
    openapi_extra=multipart_body(UploadForm),
    responses=problem_responses(400, 401, 403, 410, 413, 415, 422, 429, 503),
)
@streams_own_body  # per-kind limits, checked while the multipart body streams
async def upload(request: Request, user: CurrentUser, c: Container) -> UploadedFile:
    """Upload a reference file; its type is decided by its content, not by its name."""
    await c.platform.limiter.hit("storage-upload", str(user.user_id), c.settings.upload_rate)
    await files.refuse_erased_owner(c, user.user_id)  # before reading the body
    async with receive_upload(request, c.spool_dir, c.limit_for, c.upload_ceiling) as (fields, spooled):
        stored = await files.store_checked_file(c, user.user_id, user_purpose(fields.get("purpose")), spooled)
    return UploadedFile.of(stored)


@router.get(
    "/v1/files",
    response_model=OwnedFilePage,
    summary="List your files",
    responses=problem_responses(400, 401, 403, 422, 503),
)
async def list_files(
    user: CurrentUser, c: Container, limit: Limit = 50, cursor: str | None = None
) -> OwnedFilePage:
    """The caller's files, newest first, each with a short-lived download URL."""
    page = await files.list_owned(c, user.user_id, limit + 1, _decode_cursor(cursor))
    more = len(page) > limit
    page = page[:limit]
    return OwnedFilePage(
        items=[OwnedFile.of(await files.with_download(c, f)) for f in page],
        next_cursor=_encode_cursor(page[-1].created_at, page[-1].file_id) if more else None,
    )


@router.get(
    "/v1/files/download/{token}",
    response_class=StreamingResponse,
    summary="Download through a signed link",
    responses={
        **binary_answer((*FILE_MEDIA_TYPES, "application/zip"), "the file, served with its detected type"),
        **problem_responses(403, 404, 410, 422),
    },
)
async def download(token: str, c: Container) -> StreamingResponse:
    """Download through a signed link (local-disk store; S3 links go to the bucket)."""
    grant, body = await files.open_download(c, token)
    return StreamingResponse(
        body,
        media_type=grant.content_type,
        headers={
            "Content-Disposition": f'attachment; filename="{grant.filename}"',
            "Cache-Control": "private, no-store",
        },
    )


@router.get(
    "/v1/files/{file_id}",
    response_model=OwnedFile,
    summary="One of your files",
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def get_file(file_id: uuid.UUID, user: CurrentUser, c: Container) -> OwnedFile:
    """One of the caller's files with a short-lived download URL; others' are 404."""
    found = await files.owned_file(c, user.user_id, file_id)
    return OwnedFile.of(await files.with_download(c, found))


@router.delete(
    "/v1/files/{file_id}",
    status_code=204,
    response_class=Response,
    summary="Delete one of your files",
    responses=problem_responses(401, 403, 404, 422, 503),
)
async def delete_file(file_id: uuid.UUID, user: CurrentUser, c: Container) -> Response:
    """Delete one of the caller's files, object and metadata."""
    await files.delete_owned(c, user.user_id, file_id)
    return Response(status_code=204)
