"""An in-memory :class:`~.store.GenerationStore` for the unit tier (no PostgreSQL): the same
answers as the SQL store for what the handlers ask, events kept in a list."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

from aiflux_contracts import Event

from ..domain.records import ErasureRun, Generation
from .store import GenerationStore

T = TypeVar("T")


@dataclass
class InMemoryStore:
    """Jobs, restrictions, cleanups, erasures and the outbox as plain collections."""

    jobs: dict[uuid.UUID, Generation] = field(default_factory=dict)
    restricted: set[uuid.UUID] = field(default_factory=set)
    erased: set[uuid.UUID] = field(default_factory=set)
    cleanups_open: dict[str, uuid.UUID] = field(default_factory=dict)
    cleanups_finished: set[str] = field(default_factory=set)
    erasures: dict[uuid.UUID, ErasureRun] = field(default_factory=dict)
    outbox: list[Event] = field(default_factory=list)

    def events(self, kind: type[Event]) -> list[Any]:
        """Published events of one type."""
        return [e for e in self.outbox if isinstance(e, kind)]

    async def add_event(self, event: Event) -> None:
        self.outbox.append(event)

    async def guard_user(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        self.erased.add(user_id)

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        return user_id in self.erased

    async def forget_user_messages(self, user_id: uuid.UUID) -> None:
        return None

    async def messaging_residue(self, user_id: uuid.UUID) -> dict[str, int]:
        return {"outbox_events": 0, "erasure_guard": int(user_id in self.erased)}

    async def insert_generation(self, values: dict[str, Any]) -> None:
        now = datetime.now(UTC)
        job = Generation(
            **{
                "next_check_at": now,
                "created_at": now,
                **values,
                "input_file_ids": tuple(values["input_file_ids"]),
            }
        )
        self.jobs[job.id] = job

    async def get_generation(
        self, generation_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
    ) -> Generation | None:
        job = self.jobs.get(generation_id)
        return job if job is not None and user_id in (None, job.user_id) else None

    async def list_generations(
        self, user_id: uuid.UUID, limit: int, cursor: uuid.UUID | None
    ) -> list[Generation]:
        mine = sorted(await self.user_generations(user_id), key=lambda j: (j.created_at, j.id), reverse=True)
        if cursor is not None:
            ids = [j.id for j in mine]
            mine = mine[ids.index(cursor) + 1 :] if cursor in ids else []
        return mine[:limit]

    async def user_generations(self, user_id: uuid.UUID, *, lock: bool = False) -> list[Generation]:
        return sorted((j for j in self.jobs.values() if j.user_id == user_id), key=lambda j: j.created_at)

    async def stream_user_generations(self, user_id: uuid.UUID) -> AsyncIterator[Generation]:
        for job in await self.user_generations(user_id):
            yield job

    async def delete_generation(self, generation_id: uuid.UUID) -> None:
        self.jobs.pop(generation_id, None)

    async def delete_user_data(self, user_id: uuid.UUID) -> int:
        self.jobs = {k: j for k, j in self.jobs.items() if j.user_id != user_id}
        restricted = int(user_id in self.restricted)
        self.restricted.discard(user_id)
        return restricted

    async def inputs_used_elsewhere(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, file_ids: list[str]
    ) -> set[str]:
        used = {
            f
            for j in self.jobs.values()
            if j.user_id == user_id and j.id != generation_id
            for f in j.input_file_ids
        }
        return used & set(file_ids)

    async def is_restricted(self, user_id: uuid.UUID) -> bool:
        return user_id in self.restricted

    async def set_restriction(self, user_id: uuid.UUID, restricted: bool) -> None:
        if restricted:
            self.restricted.add(user_id)
        else:
            self.restricted.discard(user_id)

    async def count_user_rows(self, user_id: uuid.UUID) -> dict[str, int]:
        return {
            "generations": len(await self.user_generations(user_id)),
            "processing_restrictions": int(user_id in self.restricted),
        }

    async def open_cleanup_ids(self, user_id: uuid.UUID) -> list[str]:
        return [i for i, owner in self.cleanups_open.items() if owner == user_id]

    async def cleanups_done(self, cleanup_ids: tuple[str, ...]) -> bool:
        # As in PostgreSQL: a cleanup only requested (no row yet) is not done.
        return set(cleanup_ids) <= self.cleanups_finished

    async def record_erasure_run(
        self, request_id: uuid.UUID, user_id: uuid.UUID, deleted: dict[str, int], cleanup_ids: list[str]
    ) -> ErasureRun:
        earlier = self.erasures.get(request_id)
        if earlier is not None:
            deleted = {k: earlier.deleted.get(k, 0) + v for k, v in deleted.items()}
            cleanup_ids = [*earlier.cleanup_ids, *(i for i in cleanup_ids if i not in earlier.cleanup_ids)]
        run = ErasureRun(request_id, user_id, deleted, tuple(cleanup_ids))
        self.erasures[request_id] = run
        return run

    async def close_erasure(self, run: ErasureRun) -> None:
        self.erasures[run.request_id] = replace(run, user_id=None, completed_at=datetime.now(UTC))


@dataclass
class InMemoryStores:
    """Every transaction sees the one in-memory store (no rollback: unit tests only)."""

    store: InMemoryStore = field(default_factory=InMemoryStore)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[GenerationStore]:
        yield self.store

    def bound(self, session: Any) -> GenerationStore:
        return self.store

    async def read(self, read: Callable[[GenerationStore], Awaitable[T]]) -> T:
        return await read(self.store)
