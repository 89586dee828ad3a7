"""What the handlers need from persistence: the storage records inside one transaction.

``adapters.repository`` implements it on PostgreSQL; the unit tests hand ``bootstrap.build`` an
in-memory one. Every method works inside the transaction the records were opened in.
"""

from __future__ import annotations

import uuid
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from aiflux_contracts import Event
from aiflux_kit.consumers import HandlerContext

from ..domain.exports import ErasureTally, ExportObject
from ..domain.files import StoredFile


class Records(Protocol):
    """The storage tables, the erasure guard and the outbox, in one transaction."""

    async def add_file(self, file: StoredFile) -> StoredFile:
        """Insert a file's metadata; return it with its server timestamp."""

    async def get_file(self, file_id: uuid.UUID, owner: uuid.UUID | None = None) -> StoredFile | None:
        """One file, or None; with ``owner``, only when that user owns it."""

    async def list_files(
        self, owner: uuid.UUID, limit: int | None = None, after: tuple[datetime, uuid.UUID] | None = None
    ) -> list[StoredFile]:
        """The owner's files, newest first, after the (created_at, id) cursor."""

    async def count_files(self, owner: uuid.UUID) -> int:
        """How many files the owner has."""

    async def delete_files(self, file_ids: list[uuid.UUID]) -> int:
        """Delete metadata (and generation links) of files; return how many went."""

    async def delete_user_files(self, owner: uuid.UUID) -> int:
        """Delete every file of the owner; return how many went."""

    async def link_inputs(self, owner: uuid.UUID, generation_id: uuid.UUID, file_ids: list[uuid.UUID]) -> int:
        """Link the owner's input files to a generation (idempotent); return new links."""

    async def release_generation(
        self, owner: uuid.UUID, generation_id: uuid.UUID, named: list[uuid.UUID]
    ) -> list[StoredFile]:
        """Drop the generation's links; return its outputs and inputs no other one uses."""

    async def known_file_ids(self, file_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``file_ids`` have metadata."""

    async def add_export_object(
        self, request_id: uuid.UUID, name: str, key: str, size: int, expires_at: datetime
    ) -> None:
        """Record (or replace) an export object."""

    async def export_objects(self, request_id: uuid.UUID) -> list[ExportObject]:
        """The recorded objects of one export, by name."""

    async def remember_export(
        self, request_id: uuid.UUID, owner: uuid.UUID, expires_at: datetime
    ) -> uuid.UUID:
        """Record whose export ``request_id`` is (idempotent); return its recorded owner."""

    async def exports_of_user(self, owner: uuid.UUID) -> list[uuid.UUID]:
        """Request ids of the user's exports."""

    async def forget_exports(self, request_ids: list[uuid.UUID]) -> int:
        """Delete the rows of these exports; return how many object rows went."""

    async def expired_exports(self, now: datetime) -> list[uuid.UUID]:
        """Exports with an object or request past its expiry."""

    async def start_erasure(self, request_id: uuid.UUID) -> None:
        """Open the progress record of an erasure request (kept when it exists)."""

    async def count_deleted(self, request_id: uuid.UUID, objects: int) -> None:
        """Add deleted objects to an erasure request's progress."""

    async def finish_erasure(self, request_id: uuid.UUID, files: int) -> ErasureTally:
        """Add deleted files, mark the request complete; return its totals."""

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """True when the user is erased or being erased (waits for a running erasure)."""

    async def guard_user(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """Start refusing writes for the user, after the writes already past their check."""

    async def forget_user_messages(self, user_id: uuid.UUID) -> int:
        """Delete the published messages naming the user."""

    async def messaging_residue(self, user_id: uuid.UUID) -> dict[str, int]:
        """Messages and guards that still name the user."""

    async def publish(self, event: Event) -> None:
        """Publish ``event`` when this transaction commits (the outbox)."""


class RecordStore(Protocol):
    """Opens :class:`Records` in a transaction of their own or in a consumer's."""

    def transaction(self) -> AbstractAsyncContextManager[Records]:
        """Records in a new transaction, committed when the block ends."""

    def within(self, ctx: HandlerContext) -> Records:
        """Records in a consumer's inbox transaction (publishing caused by its event)."""
