"""Stored files as the rest of the system sees them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

USER_PURPOSES = frozenset({"reference", "input"})
"""Purposes a user may upload for (reference images, videos, audio for generations)."""

OUTPUT_PURPOSE = "output"


@dataclass(frozen=True)
class StoredFile:
    """Metadata of one stored object (never its content)."""

    file_id: uuid.UUID
    user_id: uuid.UUID
    content_type: str
    kind: str
    size: int
    sha256: str
    purpose: str
    generation_id: uuid.UUID | None
    object_key: str
    created_at: datetime

    def public(self) -> dict[str, Any]:
        """The fields shown to the owner and to peer services."""
        return {
            "file_id": str(self.file_id), "user_id": str(self.user_id),
            "content_type": self.content_type, "kind": self.kind, "size": self.size,
            "sha256": self.sha256, "purpose": self.purpose,
            "generation_id": str(self.generation_id) if self.generation_id else None,
            "created_at": self.created_at.isoformat(),
        }
