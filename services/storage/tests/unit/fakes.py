"""In-memory stand-ins ``bootstrap.build`` can be handed: the storage records and a context.

They keep the rules the handlers rely on (owner checks, export owners, erasure guards, the
outbox) without PostgreSQL; the object store is the real local-disk one on a temp dir.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiflux_contracts import Event
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.ratelimit import RateLimiter
from aiflux_kit.service import Platform
from aiflux_storage.bootstrap import StorageContainer, build
from aiflux_storage.domain.exports import ErasureTally, ExportObject
from aiflux_storage.domain.files import StoredFile
from aiflux_storage.settings import StorageSettings


@dataclass
class _Export:
    owner: uuid.UUID
    expires_at: datetime
    objects: dict[str, ExportObject] = field(default_factory=dict)


@dataclass
class MemoryRecords:
    """Every table of the storage service as dicts, and the outbox as a list."""

    files: dict[uuid.UUID, StoredFile] = field(default_factory=dict)
    links: set[tuple[uuid.UUID, uuid.UUID]] = field(default_factory=set)
    exports: dict[uuid.UUID, _Export] = field(default_factory=dict)
    erasures: dict[uuid.UUID, ErasureTally] = field(default_factory=dict)
    erased: set[uuid.UUID] = field(default_factory=set)
    published: list[Event] = field(default_factory=list)

    async def add_file(self, file: StoredFile) -> StoredFile:
        self.files[file.file_id] = file
        return file

    async def get_file(self, file_id: uuid.UUID, owner: uuid.UUID | None = None) -> StoredFile | None:
        found = self.files.get(file_id)
        return found if found and owner in (None, found.user_id) else None

    async def list_files(
        self, owner: uuid.UUID, limit: int | None = None, after: tuple[datetime, uuid.UUID] | None = None
    ) -> list[StoredFile]:
        mine = sorted(
            (f for f in self.files.values() if f.user_id == owner),
            key=lambda f: (f.created_at, f.file_id),
            reverse=True,
        )
        if after is not None:
            mine = [f for f in mine if (f.created_at, f.file_id) < after]
        return mine[:limit]

    async def count_files(self, owner: uuid.UUID) -> int:
        return len([f for f in self.files.values() if f.user_id == owner])

    async def delete_files(self, file_ids: list[uuid.UUID]) -> int:
        gone = [i for i in file_ids if self.files.pop(i, None) is not None]
        self.links = {(f, g) for f, g in self.links if f not in gone}
        return len(gone)

    async def delete_user_files(self, owner: uuid.UUID) -> int:
        return await self.delete_files([i for i, f in self.files.items() if f.user_id == owner])

    async def link_inputs(self, owner: uuid.UUID, generation_id: uuid.UUID, file_ids: list[uuid.UUID]) -> int:
        owned = [i for i in file_ids if i in self.files and self.files[i].user_id == owner]
        new = {(i, generation_id) for i in owned} - self.links
        self.links |= new
        for i in owned:
            f = self.files[i]
            if f.generation_id is None and f.purpose != "output":
                self.files[i] = replace(f, generation_id=generation_id)
        return len(new)

    async def release_generation(
        self, owner: uuid.UUID, generation_id: uuid.UUID, named: list[uuid.UUID]
    ) -> list[StoredFile]:
        self.links = {(f, g) for f, g in self.links if g != generation_id}
        used = {f for f, _ in self.links}
        return [
            f
            for f in self.files.values()
            if f.user_id == owner
            and f.file_id not in used
            and (f.generation_id == generation_id or f.file_id in named)
        ]

    async def known_file_ids(self, file_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        return {i for i in file_ids if i in self.files}

    async def add_export_object(
        self, request_id: uuid.UUID, name: str, key: str, size: int, expires_at: datetime
    ) -> None:
        self.exports[request_id].objects[key] = ExportObject(request_id, name, key, size, datetime.now(UTC))

    async def export_objects(self, request_id: uuid.UUID) -> list[ExportObject]:
        found = self.exports.get(request_id)
        return sorted(found.objects.values(), key=lambda o: o.name) if found else []

    async def remember_export(
        self, request_id: uuid.UUID, owner: uuid.UUID, expires_at: datetime
    ) -> uuid.UUID:
        return self.exports.setdefault(request_id, _Export(owner, expires_at)).owner

    async def exports_of_user(self, owner: uuid.UUID) -> list[uuid.UUID]:
        return [r for r, e in self.exports.items() if e.owner == owner]

    async def forget_exports(self, request_ids: list[uuid.UUID]) -> int:
        gone = [self.exports.pop(r) for r in request_ids if r in self.exports]
        return sum(len(e.objects) for e in gone)

    async def expired_exports(self, now: datetime) -> list[uuid.UUID]:
        return [r for r, e in self.exports.items() if e.expires_at < now]

    async def start_erasure(self, request_id: uuid.UUID) -> None:
        self.erasures.setdefault(request_id, ErasureTally(0, 0))

    async def count_deleted(self, request_id: uuid.UUID, objects: int) -> None:
        tally = self.erasures[request_id]
        self.erasures[request_id] = replace(tally, objects=tally.objects + objects)

    async def finish_erasure(self, request_id: uuid.UUID, files: int) -> ErasureTally:
        tally = self.erasures[request_id]
        self.erasures[request_id] = replace(tally, files=tally.files + files)
        return self.erasures[request_id]

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        return user_id in self.erased

    async def guard_user(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        self.erased.add(user_id)

    async def forget_user_messages(self, user_id: uuid.UUID) -> int:
        return 0

    async def messaging_residue(self, user_id: uuid.UUID) -> dict[str, int]:
        return {"outbox_events": 0, "erasure_guard": int(user_id in self.erased)}

    async def publish(self, event: Event) -> None:
        self.published.append(event)

    def events(self, kind: type[Event]) -> list[Any]:
        """The published events of one type (or its per-service subclasses)."""
        return [e for e in self.published if isinstance(e, kind)]


class MemoryRecordStore:
    """Hands out the one :class:`MemoryRecords` (no rollback: unit tests do not need it)."""

    def __init__(self) -> None:
        self.records = MemoryRecords()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MemoryRecords]:
        yield self.records

    def within(self, ctx: Any) -> MemoryRecords:
        return self.records


def unit_container(tmp: Path) -> tuple[StorageContainer, MemoryRecords]:
    """The storage service built by ``bootstrap.build`` on in-memory records and a temp dir."""
    platform = Platform(
        mode="embedded",
        broker=LocalBroker("postgresql+psycopg:///unused"),
        limiter=RateLimiter.from_url(None),
        data_dir=tmp,
    )
    memory = MemoryRecordStore()
    settings = StorageSettings(env="test", backend="local", public_url="http://aiflux.test")
    unit = build(platform, settings, records=memory)
    container: StorageContainer = unit.container
    return container, memory.records


NO_CONTEXT: Any = object()
"""What consumers hand a handler besides its event; the fake records ignore it."""
