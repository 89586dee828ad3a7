"""Internal routes of the storage service (``/internal/storage/...``), for peer services only.

The contract is fixed in docs/architecture.md; each route admits only the callers listed there.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from aiflux_kit.auth import InternalAuth
from aiflux_kit.body_limit import streams_own_body
from aiflux_kit.errors import Problem
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from .adapters.multipart import limited_body, receive_upload, unlimited_body
from .container import StorageContainer
from .domain.files import OUTPUT_PURPOSE
from .handlers import exports, files

ALL = ("identity", "billing", "generation", "storage", "privacy")


def _container(request: Request) -> StorageContainer:
    found: StorageContainer = request.app.state.services["storage"]
    return found


Storage = Annotated[StorageContainer, Depends(_container)]
ExportOwner = Annotated[uuid.UUID, Query(
    description="whose export this is: storage refuses (410) an erased user's export objects "
                "and erases every export of a user with the user")]


def _uuid_field(fields: dict[str, str], name: str) -> uuid.UUID:
    try:
        return uuid.UUID(fields.get(name, ""))
    except ValueError:
        raise Problem(422, "invalid-field", "Invalid form field",
                      f"The form field '{name}' must be a UUID.") from None


def _files_routes(router: APIRouter, auth: InternalAuth) -> None:
    @router.get("/files/{file_id}", dependencies=[auth.require("generation", "privacy")])
    async def file_metadata(file_id: uuid.UUID, c: Storage) -> dict[str, Any]:
        """Metadata of any file."""
        return (await files.any_file(c, file_id)).public()

    @router.get("/files/{file_id}/content",
                dependencies=[auth.require("generation", "privacy")])
    async def file_content(file_id: uuid.UUID, c: Storage) -> StreamingResponse:
        """The bytes of any file, streamed."""
        file = await files.any_file(c, file_id)
        if not await c.store.exists(file.object_key):
            raise Problem(404, "not-found", "Not found", "The file's content is gone.")
        return StreamingResponse(c.store.open(file.object_key), media_type=file.content_type,
                                 headers={"Content-Length": str(file.size)})

    @router.post("/files", status_code=201,
                 dependencies=[auth.require("generation")])
    @streams_own_body
    async def store_output(request: Request, c: Storage) -> dict[str, Any]:
        """Store a generated output (its type still checked by its content)."""
        async with receive_upload(request, c.spool_dir, c.limit_for, c.upload_ceiling) as (
                fields, spooled):
            purpose = fields.get("purpose") or OUTPUT_PURPOSE
            if purpose != OUTPUT_PURPOSE:
                raise Problem(422, "invalid-purpose", "Invalid purpose",
                              "Only purpose=output is stored through this route.")
            stored = await files.store_checked_file(
                c, _uuid_field(fields, "user_id"), purpose, spooled,
                generation_id=_uuid_field(fields, "generation_id"))
        return stored.public()

    @router.get("/users/{user_id}/files",
                dependencies=[auth.require("privacy")])
    async def user_files(user_id: uuid.UUID, c: Storage) -> dict[str, Any]:
        """Every file of a user (for an access export)."""
        async with c.database.transaction() as session:
            items = await exports.user_files(c, session, user_id)
        return {"items": items, "next_cursor": None}


def _export_routes(router: APIRouter, auth: InternalAuth) -> None:
    @router.put("/exports/{request_id}/objects/{name:path}", status_code=201,
                dependencies=[auth.require(*ALL)])
    @streams_own_body  # max_export_part_bytes
    async def put_part(request_id: uuid.UUID, name: str, user_id: ExportOwner, request: Request,
                       c: Storage) -> dict[str, Any]:
        """Store one part of a user's export (raw body); 410 when the user is erased."""
        body = limited_body(request, c.settings.max_export_part_bytes)
        return await exports.put_part(c, request_id, user_id, name, body)

    @router.get("/exports/{request_id}/objects",
                dependencies=[auth.require("privacy")])
    async def list_parts(request_id: uuid.UUID, c: Storage) -> dict[str, Any]:
        """The parts written so far."""
        return {"items": await exports.list_parts(c, request_id), "next_cursor": None}

    @router.get("/exports/{request_id}/objects/{name:path}",
                dependencies=[auth.require("privacy")])
    async def get_part(request_id: uuid.UUID, name: str, c: Storage) -> StreamingResponse:
        """One part's bytes, streamed."""
        return StreamingResponse(await exports.open_part(c, request_id, name),
                                 media_type="application/octet-stream")

    @router.put("/exports/{request_id}/archive", status_code=201,
                dependencies=[auth.require("privacy")])
    @streams_own_body  # a whole export: no limit but the store's
    async def put_archive(request_id: uuid.UUID, user_id: ExportOwner, request: Request,
                          c: Storage) -> dict[str, Any]:
        """Store a user's export archive (streamed body; no limit but the store's); 410 when
        the user is erased."""
        return await exports.put_archive(c, request_id, user_id, unlimited_body(request))

    @router.get("/exports/{request_id}/archive/url",
                dependencies=[auth.require("privacy")])
    async def archive_url(request_id: uuid.UUID, c: Storage) -> dict[str, Any]:
        """A short-lived signed download URL of the archive."""
        return await exports.archive_url(c, request_id)


def build_internal_router(trusted_callers: dict[str, str]) -> APIRouter:
    """The ``/internal/storage`` routes, each guarded for its callers."""
    auth = InternalAuth("storage", trusted_callers)
    router = APIRouter(prefix="/internal/storage", tags=["storage: internal"],
                       include_in_schema=False)
    _files_routes(router, auth)
    _export_routes(router, auth)
    return router

