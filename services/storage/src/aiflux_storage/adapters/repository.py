"""Queries on the storage tables; every function works inside the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.files import StoredFile
from .orm import ExportObjectRow, ExportRequestRow, FileLinkRow, StoredFileRow


def _domain(row: StoredFileRow) -> StoredFile:
    return StoredFile(row.id, row.user_id, row.content_type, row.kind, row.size, row.sha256,
                      row.purpose, row.generation_id, row.object_key, row.created_at)


async def add_file(session: AsyncSession, file: StoredFile) -> StoredFile:
    """Insert the metadata of a stored object; return it with its server timestamp."""
    row = StoredFileRow(id=file.file_id, user_id=file.user_id, content_type=file.content_type,
                        kind=file.kind, size=file.size, sha256=file.sha256, purpose=file.purpose,
                        generation_id=file.generation_id, object_key=file.object_key)
    session.add(row)
    await session.flush()
    await session.refresh(row)
    return _domain(row)


async def get_file(session: AsyncSession, file_id: uuid.UUID,
                   owner: uuid.UUID | None = None) -> StoredFile | None:
    """One file, or None; with ``owner``, only when that user owns it."""
    query = select(StoredFileRow).where(StoredFileRow.id == file_id)
    if owner is not None:
        query = query.where(StoredFileRow.user_id == owner)
    row = (await session.execute(query)).scalar_one_or_none()
    return _domain(row) if row else None


async def list_files(session: AsyncSession, owner: uuid.UUID, limit: int | None = None,
                     after: tuple[datetime, uuid.UUID] | None = None) -> list[StoredFile]:
    """The owner's files, newest first, after the (created_at, id) cursor."""
    query = select(StoredFileRow).where(StoredFileRow.user_id == owner)
    if after is not None:
        query = query.where(func.row(StoredFileRow.created_at, StoredFileRow.id)
                            < func.row(after[0], after[1]))
    query = query.order_by(StoredFileRow.created_at.desc(), StoredFileRow.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [_domain(r) for r in (await session.execute(query)).scalars()]


async def count_files(session: AsyncSession, owner: uuid.UUID) -> int:
    """How many files the owner has."""
    return int((await session.execute(
        select(func.count()).select_from(StoredFileRow)
        .where(StoredFileRow.user_id == owner))).scalar_one())


async def delete_files(session: AsyncSession, file_ids: list[uuid.UUID]) -> int:
    """Delete metadata (and generation links) of files; return how many rows went."""
    if not file_ids:
        return 0
    result = await session.execute(delete(StoredFileRow).where(StoredFileRow.id.in_(file_ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def delete_user_files(session: AsyncSession, owner: uuid.UUID) -> int:
    """Delete every file row of the owner."""
    result = await session.execute(delete(StoredFileRow).where(StoredFileRow.user_id == owner))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def link_inputs(session: AsyncSession, owner: uuid.UUID, generation_id: uuid.UUID,
                      file_ids: list[uuid.UUID]) -> int:
    """Link the owner's input files to a generation (idempotent); return new links."""
    owned = (await session.execute(select(StoredFileRow.id).where(
        StoredFileRow.id.in_(file_ids), StoredFileRow.user_id == owner))).scalars().all()
    linked = 0
    for file_id in owned:
        if await session.get(FileLinkRow, (file_id, generation_id)) is None:
            session.add(FileLinkRow(file_id=file_id, generation_id=generation_id))
            linked += 1
    await session.execute(update(StoredFileRow).where(
        StoredFileRow.id.in_(owned), StoredFileRow.generation_id.is_(None),
        StoredFileRow.purpose != "output").values(generation_id=generation_id))
    await session.flush()
    return linked


async def release_generation(session: AsyncSession, owner: uuid.UUID,
                              generation_id: uuid.UUID,
                              named: list[uuid.UUID]) -> list[StoredFile]:
    """Drop the generation's input links; return its outputs and inputs no other one uses."""
    await session.execute(delete(FileLinkRow).where(FileLinkRow.generation_id == generation_id))
    still_used = select(FileLinkRow.file_id)
    query = select(StoredFileRow).where(
        StoredFileRow.user_id == owner,
        (StoredFileRow.generation_id == generation_id) | StoredFileRow.id.in_(named),
        StoredFileRow.id.not_in(still_used))
    return [_domain(r) for r in (await session.execute(query)).scalars()]


async def add_export_object(session: AsyncSession, request_id: uuid.UUID, name: str, key: str,
                            size: int, expires_at: datetime) -> None:
    """Record (or replace) an export object."""
    await session.execute(delete(ExportObjectRow).where(ExportObjectRow.object_key == key))
    session.add(ExportObjectRow(object_key=key, request_id=request_id, name=name, size=size,
                                expires_at=expires_at))
    await session.flush()


async def export_objects(session: AsyncSession, request_id: uuid.UUID) -> list[ExportObjectRow]:
    """The recorded objects of one export, by name."""
    return list((await session.execute(select(ExportObjectRow).where(
        ExportObjectRow.request_id == request_id).order_by(ExportObjectRow.name))).scalars())


async def remember_export(session: AsyncSession, request_id: uuid.UUID, owner: uuid.UUID,
                          expires_at: datetime) -> uuid.UUID:
    """Record whose export ``request_id`` is (idempotent); return its recorded owner."""
    row = await session.get(ExportRequestRow, request_id)
    if row is None:
        row = ExportRequestRow(request_id=request_id, user_id=owner, expires_at=expires_at)
        session.add(row)
        await session.flush()
    return row.user_id


async def exports_of_user(session: AsyncSession, owner: uuid.UUID) -> list[uuid.UUID]:
    """Request ids of the user's exports."""
    return list((await session.execute(select(ExportRequestRow.request_id).where(
        ExportRequestRow.user_id == owner))).scalars())


async def forget_exports(session: AsyncSession, request_ids: list[uuid.UUID]) -> int:
    """Delete the rows of these exports; return how many object rows went."""
    if not request_ids:
        return 0
    result = await session.execute(delete(ExportObjectRow).where(
        ExportObjectRow.request_id.in_(request_ids)))
    await session.execute(delete(ExportRequestRow).where(
        ExportRequestRow.request_id.in_(request_ids)))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


async def expired_exports(session: AsyncSession, now: datetime) -> list[uuid.UUID]:
    """Exports with an object or request past its expiry."""
    objects = select(ExportObjectRow.request_id).where(ExportObjectRow.expires_at < now)
    requests = select(ExportRequestRow.request_id).where(ExportRequestRow.expires_at < now)
    return list((await session.execute(objects.union(requests))).scalars())


async def known_file_ids(session: AsyncSession, file_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Which of ``file_ids`` have metadata."""
    if not file_ids:
        return set()
    return set((await session.execute(select(StoredFileRow.id).where(
        StoredFileRow.id.in_(file_ids)))).scalars())
