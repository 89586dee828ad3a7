"""Events published by the storage service."""

from __future__ import annotations

import uuid
from typing import ClassVar

from .base import Event


class _Storage(Event):
    producer: ClassVar[str] = "storage"


class FileStored(_Storage):
    """An upload or a generated output was stored and checked."""

    informational: ClassVar[bool] = True

    file_id: uuid.UUID
    user_id: uuid.UUID
    purpose: str
    content_type: str
    size: int


class FilesErased(_Storage):
    """Objects were deleted from the object store (for one generation or a whole user)."""

    informational: ClassVar[bool] = True

    user_id: uuid.UUID
    generation_id: uuid.UUID | None = None
    objects_deleted: int
