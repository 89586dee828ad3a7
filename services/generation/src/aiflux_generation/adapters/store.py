"""The handlers' unit of work: everything they read or write in one transaction, behind one
protocol, so ``bootstrap`` can hand in the PostgreSQL store or the in-memory one (unit tests).
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, Protocol, TypeVar

from aiflux_contracts import Event
from aiflux_kit import erasure
from aiflux_kit.db import Database
from aiflux_kit.outbox import add_event
from sqlalchemy.ext.asyncio import AsyncSession

from ..domain.errors import AccountErased
from ..domain.records import ErasureRun, Generation
from . import cleanups
from . import repository as repo

T = TypeVar("T")

ERASED_DETAIL = "This account has been deleted; nothing more can be stored for it."


class GenerationStore(Protocol):
    """One transaction's reads and writes of generation's data, outbox and erasure guard."""

    async def add_event(self, event: Event) -> None:
        """Publish ``event`` when (and only if) the transaction commits."""

    async def guard_user(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        """Mark the user as being erased (first thing of an erasure)."""

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        """True when the user is erased or being erased."""

    async def forget_user_messages(self, user_id: uuid.UUID) -> None:
        """Forget published messages naming the user."""

    async def messaging_residue(self, user_id: uuid.UUID) -> dict[str, int]:
        """What messaging still holds of the user."""

    async def insert_generation(self, values: dict[str, Any]) -> None:
        """Save a new job."""

    async def get_generation(
        self, generation_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
    ) -> Generation | None:
        """One job (optionally only the user's), or None."""

    async def list_generations(
        self, user_id: uuid.UUID, limit: int, cursor: uuid.UUID | None
    ) -> list[Generation]:
        """The user's jobs, newest first, after ``cursor``."""

    async def user_generations(self, user_id: uuid.UUID, *, lock: bool = False) -> list[Generation]:
        """Every job of the user, oldest first."""

    def stream_user_generations(self, user_id: uuid.UUID) -> AsyncIterator[Generation]:
        """Every job of the user, oldest first, a batch at a time (server-side cursor)."""

    async def delete_generation(self, generation_id: uuid.UUID) -> None:
        """Remove one job."""

    async def delete_user_data(self, user_id: uuid.UUID) -> int:
        """Remove the user's jobs and restriction; how many restriction rows went."""

    async def inputs_used_elsewhere(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, file_ids: list[str]
    ) -> set[str]:
        """Input files another of the user's jobs still needs."""

    async def is_restricted(self, user_id: uuid.UUID) -> bool:
        """True while the user's processing is restricted."""

    async def set_restriction(self, user_id: uuid.UUID, restricted: bool) -> None:
        """Record or lift the user's restriction."""

    async def count_user_rows(self, user_id: uuid.UUID) -> dict[str, int]:
        """What remains of the user in generation's tables."""

    async def open_cleanup_ids(self, user_id: uuid.UUID) -> list[str]:
        """Ids of the user's provider cleanups not done yet."""

    async def cleanups_done(self, cleanup_ids: tuple[str, ...]) -> bool:
        """True when every listed cleanup is done."""

    async def record_erasure_run(
        self, request_id: uuid.UUID, user_id: uuid.UUID, deleted: dict[str, int], cleanup_ids: list[str]
    ) -> ErasureRun:
        """Add one run to the request's erasure (totals, awaited cleanups)."""

    async def close_erasure(self, run: ErasureRun) -> None:
        """Mark the erasure complete and forget its user id."""


async def refuse_if_erased(store: GenerationStore, user_id: uuid.UUID) -> None:
    """The erasure guard for a write: an erased account gets nothing more stored."""
    if await store.is_erased(user_id):
        raise AccountErased(ERASED_DETAIL)


class Stores(Protocol):
    """Where handlers get a store: a new transaction, or the one a consumer already holds."""

    def transaction(self) -> contextlib.AbstractAsyncContextManager[GenerationStore]:
        """A store in a new transaction (committed when the block ends without error)."""

    def bound(self, session: AsyncSession) -> GenerationStore:
        """The store of a transaction already open (a consumer's inbox transaction)."""

    async def read(self, read: Callable[[GenerationStore], Awaitable[T]]) -> T:
        """``read`` on a store outside any transaction (one statement reads: no BEGIN/COMMIT),
        run again once if the database connection turned out to be dropped."""


class SqlStore:
    """:class:`GenerationStore` on PostgreSQL (generation's tables, outbox, erasure guard)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add_event(self, event: Event) -> None:
        await add_event(self.session, event)

    async def guard_user(self, user_id: uuid.UUID, request_id: uuid.UUID) -> None:
        await erasure.guard_user(self.session, user_id, request_id)

    async def is_erased(self, user_id: uuid.UUID) -> bool:
        erased: bool = await erasure.is_erased(self.session, user_id)
        return erased

    async def forget_user_messages(self, user_id: uuid.UUID) -> None:
        await erasure.forget_user_messages(self.session, user_id)

    async def messaging_residue(self, user_id: uuid.UUID) -> dict[str, int]:
        residue: dict[str, int] = await erasure.messaging_residue(self.session, user_id)
        return residue

    async def insert_generation(self, values: dict[str, Any]) -> None:
        await repo.insert_generation(self.session, values)

    async def get_generation(
        self, generation_id: uuid.UUID, *, user_id: uuid.UUID | None = None, lock: bool = False
    ) -> Generation | None:
        return await repo.get_generation(self.session, generation_id, user_id=user_id, lock=lock)

    async def list_generations(
        self, user_id: uuid.UUID, limit: int, cursor: uuid.UUID | None
    ) -> list[Generation]:
        return await repo.list_generations(self.session, user_id, limit, cursor)

    async def user_generations(self, user_id: uuid.UUID, *, lock: bool = False) -> list[Generation]:
        return await repo.user_generations(self.session, user_id, lock=lock)

    def stream_user_generations(self, user_id: uuid.UUID) -> AsyncIterator[Generation]:
        return repo.stream_user_generations(self.session, user_id)

    async def delete_generation(self, generation_id: uuid.UUID) -> None:
        await repo.delete_generation(self.session, generation_id)

    async def delete_user_data(self, user_id: uuid.UUID) -> int:
        return await repo.delete_user_data(self.session, user_id)

    async def inputs_used_elsewhere(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, file_ids: list[str]
    ) -> set[str]:
        return await repo.inputs_used_elsewhere(self.session, user_id, generation_id, file_ids)

    async def is_restricted(self, user_id: uuid.UUID) -> bool:
        return await repo.is_restricted(self.session, user_id)

    async def set_restriction(self, user_id: uuid.UUID, restricted: bool) -> None:
        await repo.set_restriction(self.session, user_id, restricted)

    async def count_user_rows(self, user_id: uuid.UUID) -> dict[str, int]:
        return await repo.count_user_rows(self.session, user_id)

    async def open_cleanup_ids(self, user_id: uuid.UUID) -> list[str]:
        return await cleanups.open_ids_of_user(self.session, user_id)

    async def cleanups_done(self, cleanup_ids: tuple[str, ...]) -> bool:
        return await cleanups.all_done(self.session, cleanup_ids)

    async def record_erasure_run(
        self, request_id: uuid.UUID, user_id: uuid.UUID, deleted: dict[str, int], cleanup_ids: list[str]
    ) -> ErasureRun:
        return await cleanups.record_erasure_run(self.session, request_id, user_id, deleted, cleanup_ids)

    async def close_erasure(self, run: ErasureRun) -> None:
        await cleanups.close_erasure(self.session, run)


class SqlStores:
    """Stores on the service's database."""

    def __init__(self, database: Database) -> None:
        self._database = database

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[GenerationStore]:
        async with self._database.transaction() as session:
            yield SqlStore(session)

    def bound(self, session: AsyncSession) -> GenerationStore:
        return SqlStore(session)

    async def read(self, read: Callable[[GenerationStore], Awaitable[T]]) -> T:
        return await self._database.run_read(lambda session: read(SqlStore(session)))
