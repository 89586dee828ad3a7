"""Every request and response body of the storage routes (what the OpenAPI documents).

Timestamps keep the ISO 8601 form the routes always answered with (``+00:00``, not ``Z``).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, WithJsonSchema, model_validator

from .domain.content import ALL_TYPES
from .domain.exports import ArchivePlan, ExportObject, StoredExportObject
from .domain.files import FileDownload, SignedUrl, StoredFile

Timestamp = Annotated[
    datetime,
    PlainSerializer(lambda d: d.isoformat(), return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class _Answer(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def from_record(cls, record: object, **extra: Any) -> Self:
        """This answer filled from the record's attributes of the same names, plus ``extra``
        (fields the answer does not declare, like the object key, are left out)."""
        values = {name: getattr(record, name) for name in cls.model_fields if hasattr(record, name)}
        return cls.model_validate({**values, **extra})


class UploadForm(BaseModel):
    """``POST /v1/files`` as ``multipart/form-data`` (parsed as a stream by the route)."""

    model_config = ConfigDict(extra="forbid")

    file: bytes = Field(
        description="the file; its type is decided by its content: PNG, JPEG, "
        "WebP, GIF, MP4, MOV, WebM, WAV, MP3, OGG or FLAC"
    )
    purpose: Literal["reference", "input"] = "reference"


class OutputForm(BaseModel):
    """``POST /internal/storage/files`` as ``multipart/form-data``: a generated output."""

    model_config = ConfigDict(extra="forbid")

    file: bytes = Field(description="the output; its type is still checked by its content")
    user_id: uuid.UUID
    generation_id: uuid.UUID
    purpose: Literal["output"] = "output"


_SEGMENT = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
MemberName = Annotated[
    str,
    Field(
        max_length=512,
        pattern=rf"^{_SEGMENT}(/{_SEGMENT})*$",
        description="the member's path inside the ZIP (folders of letters, digits, '.', '_', '-')",
    ),
]


class ArchivePartMember(BaseModel):
    """One export part of the request, copied into the ZIP under ``member``."""

    model_config = ConfigDict(extra="forbid")

    member: MemberName
    part: str = Field(max_length=512, description="the part's name, as it was stored")


class ArchiveFileMember(BaseModel):
    """One of the owner's files, copied into the ZIP under ``member``."""

    model_config = ConfigDict(extra="forbid")

    member: MemberName
    file_id: uuid.UUID


class ArchiveBuild(BaseModel):
    """``POST /internal/storage/exports/{request_id}/archive``: what the ZIP holds, in order:
    ``manifest.json``, the parts, the files."""

    model_config = ConfigDict(extra="forbid")

    manifest: dict[str, Any] = Field(description="written as manifest.json, the ZIP's first member")
    parts: list[ArchivePartMember]
    files: list[ArchiveFileMember]

    @model_validator(mode="after")
    def _distinct_members(self) -> Self:
        names = ["manifest.json", *(p.member for p in self.parts), *(f.member for f in self.files)]
        if len(set(names)) != len(names):
            raise ValueError("every member name must be distinct (manifest.json is taken)")
        return self

    def plan(self) -> ArchivePlan:
        """The plan the handler builds the ZIP from."""
        return ArchivePlan(
            manifest=json.dumps(self.manifest, indent=2, ensure_ascii=False).encode(),
            parts=[(p.member, p.part) for p in self.parts],
            files=[(f.member, f.file_id) for f in self.files],
        )


def json_body(model: type[BaseModel], description: str) -> dict[str, Any]:
    """``openapi_extra`` documenting a JSON body the route reads itself (under its own limit)."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": model.model_json_schema()}},
        }
    }


def multipart_body(form: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` documenting a multipart body the route streams itself."""
    return {
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": form.model_json_schema()}},
        }
    }


def binary_body(description: str) -> dict[str, Any]:
    """``openapi_extra`` documenting a raw streamed body."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        }
    }


def binary_answer(media_types: Iterable[str], description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entry of a streamed 200 answer in one of ``media_types``."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": description, "content": {media_type: binary for media_type in media_types}}}


FILE_MEDIA_TYPES = tuple(t.media_type for t in ALL_TYPES)
"""What a stored file is served as (its detected type)."""


class UploadedFile(_Answer):
    """A file just stored for its owner."""

    file_id: uuid.UUID
    content_type: str
    size: int
    kind: Literal["image", "video", "audio"]
    sha256: str
    purpose: str
    created_at: Timestamp

    @classmethod
    def of(cls, file: StoredFile) -> UploadedFile:
        """The answer for a stored file."""
        return cls.from_record(file)


class OwnedFile(_Answer):
    """One of the caller's files, with a short-lived signed download URL."""

    file_id: uuid.UUID
    content_type: str
    kind: Literal["image", "video", "audio"]
    size: int
    sha256: str
    purpose: str
    generation_id: uuid.UUID | None
    created_at: Timestamp
    download_url: str
    download_url_expires_at: Timestamp

    @classmethod
    def of(cls, found: FileDownload) -> OwnedFile:
        """The answer for a file and its download link."""
        return cls.from_record(
            found.file, download_url=found.link.url, download_url_expires_at=found.link.expires_at
        )


class OwnedFilePage(_Answer):
    """A page of the caller's files, newest first."""

    items: list[OwnedFile]
    next_cursor: str | None


class FileMetadata(_Answer):
    """Metadata of any file, for peer services (never its object key)."""

    file_id: uuid.UUID
    user_id: uuid.UUID
    content_type: str
    kind: Literal["image", "video", "audio"]
    size: int
    sha256: str
    purpose: str
    generation_id: uuid.UUID | None
    created_at: Timestamp

    @classmethod
    def of(cls, f: StoredFile) -> FileMetadata:
        """The metadata of a stored file."""
        return cls.from_record(f)


class ExportedFile(FileMetadata):
    """A file as exported: its metadata and the API URL its owner opens it by."""

    url: str

    @classmethod
    def exported(cls, f: StoredFile, public_url: str) -> ExportedFile:
        """The exported form of a stored file."""
        return cls.from_record(f, url=f.api_url(public_url))


class ExportedFilePage(_Answer):
    """Every file of a user (one page: the whole list)."""

    items: list[ExportedFile]
    next_cursor: str | None = None


class StoredPart(_Answer):
    """An export part just stored."""

    key: str
    name: str
    size: int

    @classmethod
    def of(cls, stored: StoredExportObject) -> StoredPart:
        """The answer for a stored part."""
        return cls(key=stored.key, name=stored.name, size=stored.size)


class StoredArchive(_Answer):
    """An export archive just stored; it expires with the export."""

    key: str
    size: int
    expires_at: Timestamp

    @classmethod
    def of(cls, stored: StoredExportObject) -> StoredArchive:
        """The answer for a stored archive."""
        return cls(key=stored.key, size=stored.size, expires_at=stored.expires_at)


class ExportPart(_Answer):
    """One part written so far."""

    name: str
    key: str
    size: int
    created_at: Timestamp

    @classmethod
    def of(cls, o: ExportObject) -> ExportPart:
        """The answer for a recorded export object."""
        return cls(name=o.name, key=o.key, size=o.size, created_at=o.created_at)


class ExportPartPage(_Answer):
    """The parts of one export (one page: the whole list)."""

    items: list[ExportPart]
    next_cursor: str | None = None


class ArchiveUrl(_Answer):
    """A short-lived signed download URL of an export archive."""

    url: str
    expires_at: Timestamp

    @classmethod
    def of(cls, link: SignedUrl) -> ArchiveUrl:
        """The answer for a signed link."""
        return cls(url=link.url, expires_at=link.expires_at)
