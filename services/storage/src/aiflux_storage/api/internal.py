"""Internal routes of the storage service (``/internal/storage/...``), for peer services only.

The contract is fixed in docs/architecture.md; each route admits only the callers listed there.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from aiflux_kit.body_limit import streams_own_body
from aiflux_kit.errors import Problem
from aiflux_kit.openapi import problem_responses
from fastapi import APIRouter, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import ValidationError

from ..adapters.multipart import limited_body, receive_upload, unlimited_body
from ..bootstrap import Container, peers
from ..domain.files import output_purpose
from ..handlers import export, files
from ..schemas import (
    FILE_MEDIA_TYPES,
    ArchiveBuild,
    ArchiveUrl,
    ExportedFile,
    ExportedFilePage,
    ExportPart,
    ExportPartPage,
    FileMetadata,
    OutputForm,
    StoredArchive,
    StoredPart,
    binary_answer,
    binary_body,
    json_body,
    multipart_body,
)

ALL = ("identity", "billing", "generation", "storage", "privacy")

router = APIRouter(prefix="/internal/storage", tags=["storage: internal"])

ExportOwner = Annotated[
    uuid.UUID,
    Query(
        description="whose export this is: storage refuses (410) an erased user's export objects "
        "and erases every export of a user with the user"
    ),
]
READ = problem_responses(401, 403, 404, 422, 503)
ARCHIVE_PLAN_LIMIT = 16 * 1024 * 1024
"""Bytes of an archive plan (about 100,000 files); larger than a JSON route's default."""
WRITE = problem_responses(400, 401, 403, 409, 410, 413, 422, 503)


def _uuid_field(fields: dict[str, str], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(fields.get(name, ""))
    except ValueError:
        raise Problem(
            422, "invalid-field", "Invalid form field", f"The form field '{name}' must be a UUID."
        ) from None


@router.get(
    "/files/{file_id}",
    response_model=FileMetadata,
    summary="Metadata of any file",
    dependencies=[peers("generation", "privacy")],
    responses=READ,
)
async def file_metadata(file_id: uuid.UUID, c: Container) -> FileMetadata:
    """Metadata of any file."""
    return FileMetadata.of(await files.any_file(c, file_id))


@router.get(
    "/files/{file_id}/content",
    response_class=StreamingResponse,
    summary="The bytes of any file",
    dependencies=[peers("generation", "privacy")],
    responses={**binary_answer(FILE_MEDIA_TYPES, "the file's bytes, streamed"), **READ},
)
async def file_content(file_id: uuid.UUID, c: Container) -> StreamingResponse:
    """The bytes of any file, streamed."""
    file = await files.any_file(c, file_id)
    return StreamingResponse(
        await files.open_content(c, file),
        media_type=file.content_type,
        headers={"Content-Length": str(file.size)},
    )


@router.post(
    "/files",
    status_code=201,
    response_model=FileMetadata,
    summary="Store a generated output",
    dependencies=[peers("generation")],
    openapi_extra=multipart_body(OutputForm),
    responses=problem_responses(400, 401, 403, 410, 413, 415, 422, 503),
)
@streams_own_body
async def store_output(request: Request, c: Container) -> FileMetadata:
    """Store a generated output (its type still checked by its content)."""
    async with receive_upload(request, c.spool_dir, c.limit_for, c.upload_ceiling) as (fields, spooled):
        purpose = output_purpose(fields.get("purpose"))
        stored = await files.store_checked_file(
            c,
            _uuid_field(fields, "user_id"),
            purpose,
            spooled,
            generation_id=_uuid_field(fields, "generation_id"),
        )
    return FileMetadata.of(stored)


@router.get(
    "/users/{user_id}/files",
    response_model=ExportedFilePage,
    summary="Every file of a user",
    dependencies=[peers("privacy")],
    responses=problem_responses(401, 403, 422, 503),
)
async def user_files(user_id: uuid.UUID, c: Container) -> ExportedFilePage:
    """Every file of a user (for an access export)."""
    found = await export.user_files(c, user_id)
    return ExportedFilePage(items=[ExportedFile.exported(f, c.settings.public_url) for f in found])


@router.put(
    "/exports/{request_id}/objects/{name:path}",
    status_code=201,
    response_model=StoredPart,
    summary="Store one part of an export",
    dependencies=[peers(*ALL)],
    openapi_extra=binary_body("the part's bytes"),
    responses=WRITE,
)
@streams_own_body  # max_export_part_bytes
async def put_part(
    request_id: uuid.UUID, name: str, user_id: ExportOwner, request: Request, c: Container
) -> StoredPart:
    """Store one part of a user's export (raw body); 410 when the user is erased."""
    body = limited_body(request, c.settings.max_export_part_bytes)
    return StoredPart.of(await export.put_part(c, request_id, user_id, name, body))


@router.get(
    "/exports/{request_id}/objects",
    response_model=ExportPartPage,
    summary="The parts of an export",
    dependencies=[peers("privacy")],
    responses=problem_responses(401, 403, 422, 503),
)
async def list_parts(request_id: uuid.UUID, c: Container) -> ExportPartPage:
    """The parts written so far."""
    return ExportPartPage(items=[ExportPart.of(o) for o in await export.list_parts(c, request_id)])


@router.get(
    "/exports/{request_id}/objects/{name:path}",
    response_class=StreamingResponse,
    summary="One part's bytes",
    dependencies=[peers("privacy")],
    responses={**binary_answer(("application/octet-stream",), "the part, streamed"), **READ},
)
async def get_part(request_id: uuid.UUID, name: str, c: Container) -> StreamingResponse:
    """One part's bytes, streamed."""
    return StreamingResponse(
        await export.open_part(c, request_id, name), media_type="application/octet-stream"
    )


@router.put(
    "/exports/{request_id}/archive",
    status_code=201,
    response_model=StoredArchive,
    summary="Store an export's archive",
    dependencies=[peers("privacy")],
    openapi_extra=binary_body("the ZIP archive, streamed"),
    responses=WRITE,
)
@streams_own_body  # a whole export: no limit but the store's
async def put_archive(
    request_id: uuid.UUID, user_id: ExportOwner, request: Request, c: Container
) -> StoredArchive:
    """Store a user's export archive (streamed body; no limit but the store's); 410 when
    the user is erased."""
    stored = await export.put_archive(c, request_id, user_id, unlimited_body(request))
    return StoredArchive.of(stored)


@router.post(
    "/exports/{request_id}/archive",
    status_code=201,
    response_model=StoredArchive,
    summary="Build an export's archive from storage's own store",
    dependencies=[peers("privacy")],
    openapi_extra=json_body(ArchiveBuild, "the manifest, then the parts and files to put in the ZIP"),
    responses=problem_responses(400, 401, 403, 404, 409, 410, 413, 422, 503),
)
@streams_own_body  # ARCHIVE_PLAN_LIMIT
async def build_archive(
    request_id: uuid.UUID, user_id: ExportOwner, request: Request, c: Container
) -> StoredArchive:
    """Assemble and store the user's export ZIP: ``manifest.json``, then each listed part of
    this export and each listed file of the user, read straight from the store (media stored,
    JSON deflated). 410 when the user is erased, 404 when a listed part or file is missing."""
    body = b"".join([chunk async for chunk in limited_body(request, ARCHIVE_PLAN_LIMIT)])
    try:
        plan = ArchiveBuild.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from None
    return StoredArchive.of(await export.build_archive(c, request_id, user_id, plan.plan()))


@router.get(
    "/exports/{request_id}/archive/url",
    response_model=ArchiveUrl,
    summary="A signed URL of an export's archive",
    dependencies=[peers("privacy")],
    responses=READ,
)
async def archive_url(request_id: uuid.UUID, c: Container) -> ArchiveUrl:
    """A short-lived signed download URL of the archive."""
    return ArchiveUrl.of(await export.archive_url(c, request_id))
