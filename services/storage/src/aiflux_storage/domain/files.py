"""Stored files as the rest of the system sees them."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast, get_args

from .content import Kind
from .errors import InvalidPurpose

USER_PURPOSES = frozenset({"reference", "input"})
"""Purposes a user may upload for (reference images, videos, audio for generations)."""

OUTPUT_PURPOSE = "output"


def kind_of(value: str) -> Kind:
    """A stored kind, checked (the column holds only the kinds storage writes)."""
    if value not in get_args(Kind):
        raise ValueError(f"unknown file kind {value!r}")
    return cast(Kind, value)


def user_purpose(value: str | None) -> str:
    """The purpose of a user's upload (``reference`` when none is given)."""
    purpose = (value or "reference").strip()
    if purpose not in USER_PURPOSES:
        raise InvalidPurpose(f"purpose must be one of: {', '.join(sorted(USER_PURPOSES))}.")
    return purpose


def output_purpose(value: str | None) -> str:
    """The purpose of a generated output: only ``output``."""
    purpose = value or OUTPUT_PURPOSE
    if purpose != OUTPUT_PURPOSE:
        raise InvalidPurpose("Only purpose=output is stored through this route.")
    return purpose


@dataclass(frozen=True)
class StoredFile:
    """Metadata of one stored object (never its content)."""

    file_id: uuid.UUID
    user_id: uuid.UUID
    content_type: str
    kind: Kind
    size: int
    sha256: str
    purpose: str
    generation_id: uuid.UUID | None
    object_key: str
    created_at: datetime

    def api_url(self, public_url: str) -> str:
        """The URL its owner opens it by (never an internal path or object key)."""
        return f"{public_url.rstrip('/')}/v1/files/{self.file_id}"

    def exported(self, public_url: str) -> dict[str, Any]:
        """The file as written into the user's export (``storage.json``)."""
        return {
            "file_id": str(self.file_id),
            "user_id": str(self.user_id),
            "content_type": self.content_type,
            "kind": self.kind,
            "size": self.size,
            "sha256": self.sha256,
            "purpose": self.purpose,
            "generation_id": str(self.generation_id) if self.generation_id else None,
            "created_at": self.created_at.isoformat(),
            "url": self.api_url(public_url),
        }


@dataclass(frozen=True)
class SignedUrl:
    """A short-lived download URL and when it stops working."""

    url: str
    expires_at: datetime


@dataclass(frozen=True)
class FileDownload:
    """A file and a signed link to its content."""

    file: StoredFile
    link: SignedUrl
