"""Access exports as storage keeps them: parts from every service and the archive."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

STORAGE_PART = "storage.json"
ARCHIVE_NAME = "archive.zip"


@dataclass(frozen=True)
class ExportObject:
    """One recorded object of an export (a part or the archive)."""

    request_id: uuid.UUID
    name: str
    key: str
    size: int
    created_at: datetime


@dataclass(frozen=True)
class StoredExportObject:
    """An export object just written, and when it expires."""

    key: str
    name: str
    size: int
    expires_at: datetime


@dataclass(frozen=True)
class ErasureTally:
    """What one erasure request has deleted so far (counts only)."""

    objects: int
    files: int


@dataclass(frozen=True)
class ArchivePlan:
    """What privacy asks storage to put in an export's ZIP, in order: the manifest, then each
    ``(member name, part name)`` of the export's parts, then each ``(member name, file id)`` of
    the owner's files."""

    manifest: bytes
    parts: list[tuple[str, str]]
    files: list[tuple[str, uuid.UUID]]
