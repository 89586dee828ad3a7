"""Tables of the storage service."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from aiflux_kit.db import make_base
from sqlalchemy import BigInteger, DateTime, ForeignKey, Index, Integer, String, func
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

if TYPE_CHECKING:  # make_base() builds the class at runtime; mypy needs a static one

    class Base(DeclarativeBase):
        """The storage service's declarative base."""
else:
    Base = make_base()


class StoredFileRow(Base):
    """Metadata of one stored object: an upload or a generated output."""

    __tablename__ = "stored_file"

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True))
    content_type: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(30))
    generation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True), index=True)
    object_key: Mapped[str] = mapped_column(String(300), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class FileLinkRow(Base):
    """An input file used by a generation (one input may serve several, e.g. after Repeat)."""

    __tablename__ = "file_link"

    file_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("stored_file.id", ondelete="CASCADE"), primary_key=True
    )
    generation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)


Index("ix_stored_file_user_id", StoredFileRow.user_id, StoredFileRow.created_at)
Index("ix_file_link_generation", FileLinkRow.generation_id)


class ExportObjectRow(Base):
    """One object of an access export (a part or the archive); expires with the export."""

    __tablename__ = "export_object"

    object_key: Mapped[str] = mapped_column(String(700), primary_key=True)
    request_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    name: Mapped[str] = mapped_column(String(600))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class ExportRequestRow(Base):
    """Whose export a request id is, so erasure can remove a user's exports too."""

    __tablename__ = "export_request"

    request_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class UserErasureRow(Base):
    """Progress and receipt of one erasure request (counts only, no personal data)."""

    __tablename__ = "user_erasure"

    request_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    objects_deleted: Mapped[int] = mapped_column(Integer, default=0)
    files_deleted: Mapped[int | None] = mapped_column(Integer)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
