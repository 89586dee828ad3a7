"""The storage records on PostgreSQL: queries inside one transaction, typed records out."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from aiflux_contracts import Event
from aiflux_kit import erasure
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.db import Database
from aiflux_kit.outbox import add_event
from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.exports import ErasureTally, ExportObject
from ..domain.files import StoredFile, kind_of
from .orm import ExportObjectRow, ExportRequestRow, FileLinkRow, StoredFileRow, UserErasureRow


def _file(row: StoredFileRow) -> StoredFile:
    return StoredFile(
        row.id,
        row.user_id,
        row.content_type,
        kind_of(row.kind),
        row.size,
        row.sha256,
        row.purpose,
        row.generation_id,
        row.object_key,
        row.created_at,
    )


def _rowcount(result: Any) -> int:
    return int(result.rowcount or 0)


class SqlRecords:
    """:class:`~aiflux_storage.handlers.ports.Records` on one SQLAlchemy session."""

    def __init__(
        self, session: AsyncSession, publish: Callable[[Event], Awaitable[object]] | None = None
    ) -> None:
        self.session = session
        self._publish = publish

    async def add_file(self, file: StoredFile) -> StoredFile:
        """Insert the metadata of a stored object; return it with its server timestamp."""
        row = StoredFileRow(
            id=file.file_id,
            user_id=file.user_id,
            content_type=file.content_type,
            kind=file.kind,
            size=file.size,
            sha256=file.sha256,
            purpose=file.purpose,
            generation_id=file.generation_id,
            object_key=file.object_key,
        )
        self.session.add(row)
        await self.session.flush()
        await self.session.refresh(row)
        return _file(row)

    async def get_file(self, file_id: uuid.UUID, owner: uuid.UUID | None = None) -> StoredFile | None:
        """One file, or None; with ``owner``, only when that user owns it."""
        query = select(StoredFileRow).where(StoredFileRow.id == file_id)
        if owner is not None:
            query = query.where(StoredFileRow.user_id == owner)
        row = (await self.session.execute(query)).scalar_one_or_none()
        return _file(row) if row else None

    async def list_files(
        self, owner: uuid.UUID, limit: int | None = None, after: tuple[datetime, uuid.UUID] | None = None
    ) -> list[StoredFile]:
        """The owner's files, newest first, after the (created_at, id) cursor."""
        query = select(StoredFileRow).where(StoredFileRow.user_id == owner)
        if after is not None:
            query = query.where(
                func.row(StoredFileRow.created_at, StoredFileRow.id) < func.row(after[0], after[1])
            )
        query = query.order_by(StoredFileRow.created_at.desc(), StoredFileRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        return [_file(r) for r in (await self.session.execute(query)).scalars()]

    async def count_files(self, owner: uuid.UUID) -> int:
        """How many files the owner has."""
        return int(
            (
                await self.session.execute(
                    select(func.count()).select_from(StoredFileRow).where(StoredFileRow.user_id == owner)
                )
            ).scalar_one()
        )

    async def delete_files(self, file_ids: list[uuid.UUID]) -> int:
        """Delete metadata (and generation links) of files; return how many rows went."""
        if not file_ids:
            return 0
        return _rowcount(
            await self.session.execute(delete(StoredFileRow).where(StoredFileRow.id.in_(file_ids)))
        )

    async def delete_user_files(self, owner: uuid.UUID) -> int:
        """Delete every file row of the owner."""
        return _rowcount(
            await self.session.execute(delete(StoredFileRow).where(StoredFileRow.user_id == owner))
        )

    async def link_inputs(self, owner: uuid.UUID, generation_id: uuid.UUID, file_ids: list[uuid.UUID]) -> int:
        """Link the owner's input files to a generation (idempotent); return new links."""
        owned = await self._lock_files(file_ids, owner)
        linked = 0
        for file_id in owned:
            if await self.session.get(FileLinkRow, (file_id, generation_id)) is None:
                self.session.add(FileLinkRow(file_id=file_id, generation_id=generation_id))
                linked += 1
        await self.session.execute(
            update(StoredFileRow)
            .where(
                StoredFileRow.id.in_(owned),
                StoredFileRow.generation_id.is_(None),
                StoredFileRow.purpose != "output",
            )
            .values(generation_id=generation_id)
        )
        await self.session.flush()
        return linked

    async def _lock_files(self, file_ids: list[uuid.UUID], owner: uuid.UUID) -> list[uuid.UUID]:
        """Lock the owner's rows among ``file_ids`` (in id order, so lockers never deadlock)."""
        if not file_ids:
            return []
        query = (
            select(StoredFileRow.id)
            .where(StoredFileRow.id.in_(file_ids), StoredFileRow.user_id == owner)
            .order_by(StoredFileRow.id)
            .with_for_update()
        )
        return list((await self.session.execute(query)).scalars())

    async def release_generation(
        self, owner: uuid.UUID, generation_id: uuid.UUID, named: list[uuid.UUID]
    ) -> list[StoredFile]:
        """Drop the generation's input links; return its outputs and inputs no other uses.

        The named files are locked first: two generations sharing an input, deleted at once,
        would otherwise each still see the other's link, and neither would release the input.
        """
        await self._lock_files(named, owner)
        await self.session.execute(delete(FileLinkRow).where(FileLinkRow.generation_id == generation_id))
        still_used = select(FileLinkRow.file_id)
        query = select(StoredFileRow).where(
            StoredFileRow.user_id == owner,
            (StoredFileRow.generation_id == generation_id) | StoredFileRow.id.in_(named),
            StoredFileRow.id.not_in(still_used),
        )
        return [_file(r) for r in (await self.session.execute(query)).scalars()]

    async def known_file_ids(self, file_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        """Which of ``file_ids`` have metadata."""
        if not file_ids:
            return set()
        return set(
            (
                await self.session.execute(select(StoredFileRow.id).where(StoredFileRow.id.in_(file_ids)))
            ).scalars()
        )

    async def add_export_object(
        self, request_id: uuid.UUID, name: str, key: str, size: int, expires_at: datetime
    ) -> None:
        """Record (or replace) an export object."""
        await self.session.execute(delete(ExportObjectRow).where(ExportObjectRow.object_key == key))
        self.session.add(
            ExportObjectRow(
                object_key=key, request_id=request_id, name=name, size=size, expires_at=expires_at
            )
        )
        await self.session.flush()

    async def export_objects(self, request_id: uuid.UUID) -> list[ExportObject]:
        """The recorded objects of one export, by name."""
        rows = (
            await self.session.execute(
                select(ExportObjectRow)
                .where(ExportObjectRow.request_id == request_id)
                .order_by(ExportObjectRow.name)
            )
        ).scalars()
        return [ExportObject(r.request_id, r.name, r.object_key, r.size, r.created_at) for r in rows]

    async def remember_export(
        self, request_id: uuid.UUID, owner: uuid.UUID, expires_at: datetime
    ) -> uuid.UUID:
        """Record whose export ``request_id`` is (idempotent); return its recorded owner.

        Parts of one export arrive together from every service: the first insert wins, the
        others wait for it and read its owner (never a unique-violation 409)."""
        await self.session.execute(
            pg_insert(ExportRequestRow)
            .values(request_id=request_id, user_id=owner, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=[ExportRequestRow.request_id])
        )
        query = select(ExportRequestRow.user_id).where(ExportRequestRow.request_id == request_id)
        recorded: uuid.UUID = (await self.session.execute(query)).scalar_one()
        return recorded

    async def exports_of_user(self, owner: uuid.UUID) -> list[uuid.UUID]:
        """Request ids of the user's exports."""
        return list(
            (
                await self.session.execute(
                    select(ExportRequestRow.request_id).where(ExportRequestRow.user_id == owner)
                )
            ).scalars()
        )

    async def forget_exports(self, request_ids: list[uuid.UUID]) -> int:
        """Delete the rows of these exports; return how many object rows went."""
        if not request_ids:
            return 0
        result = await self.session.execute(
            delete(ExportObjectRow).where(ExportObjectRow.request_id.in_(request_ids))
        )
        await self.session.execute(
            delete(ExportRequestRow).where(ExportRequestRow.request_id.in_(request_ids))
        )
        return _rowcount(result)

    async def expired_exports(self, now: datetime) -> list[uuid.UUID]:
        """Exports with an object or request past its expiry."""
        objects = select(ExportObjectRow.request_id).where(ExportObjectRow.expires_at < now)
        requests = select(ExportRequestRow.request_id).where(ExportRequestRow.expires_at < now)
        return list((await self.session.execute(objects.union(requests))).scalars())

    async def start_erasure(self, request_id: uuid.UUID) -> None:
        """Open the progress record of an erasure request (kept when it exists)."""
        if await self.session.get(UserErasureRow, request_id) is None:
            self.session.add(UserErasureRow(request_id=request_id, objects_deleted=0))

    async def count_deleted(self, request_id: uuid.UUID, objects: int) -> None:
        """Add deleted objects to an erasure request's progress."""
        await self.session.execute(
            update(UserErasureRow)
            .where(UserErasureRow.request_id == request_id)
            .values(objects_deleted=UserErasureRow.objects_deleted + objects)
        )

    async def finish_erasure(self, request_id: uuid.UUID, files: int) -> ErasureTally:
        """Add deleted files, mark the request complete; return its totals."""
        row = await self.session.get(UserErasureRow, request_id, populate_existing=True)
        if row is None:
            raise LookupError("erasure progress missing")  # start_erasure committed it first
        row.files_deleted = (row.files_deleted or 0) + files
        row.completed_at = datetime.now(UTC)
        return ErasureTally(objects=row.objects_deleted, files=row.files_deleted)

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """True when the user is erased or being erased."""
        erased: bool = await erasure.is_erased(self.session, user_id)
        return erased

    async def guard_user(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """Start refusing writes for the user (the kit's guard)."""
        await erasure.guard_user(self.session, user_id, request_id)

    async def forget_user_messages(self, user_id: uuid.UUID) -> int:
        """Delete the published messages naming the user."""
        forgotten: int = await erasure.forget_user_messages(self.session, user_id)
        return forgotten

    async def messaging_residue(self, user_id: uuid.UUID) -> dict[str, int]:
        """Messages and guards that still name the user."""
        residue: dict[str, int] = await erasure.messaging_residue(self.session, user_id)
        return residue

    async def publish(self, event: Event) -> None:
        """Add ``event`` to the outbox of this transaction."""
        if self._publish is not None:
            await self._publish(event)
        else:
            await add_event(self.session, event)


class SqlRecordStore:
    """Opens :class:`SqlRecords` on the service's database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlRecords]:
        """Records in a new transaction."""
        async with self.database.transaction() as session:
            yield SqlRecords(session)

    def within(self, ctx: HandlerContext) -> SqlRecords:
        """Records in a consumer's inbox transaction."""
        return SqlRecords(ctx.session, ctx.publish)
