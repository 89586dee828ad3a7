"""What operators ask of generation: failed jobs, provider cleanups, breaker states."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from ..adapters import cleanups
from ..adapters import repository as repo
from ..domain.errors import CleanupNotFound
from ..domain.records import Generation, ProviderCleanup

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer


async def failed_jobs(c: GenerationContainer, limit: int) -> list[Generation]:
    """The most recently failed generations."""
    async with c.database.transaction() as session:
        return await repo.failed_jobs(session, limit)


async def cleanups_by_status(c: GenerationContainer, status: str, limit: int) -> list[ProviderCleanup]:
    """Provider cleanups in ``status``, oldest first."""
    async with c.database.transaction() as session:
        return await cleanups.by_status(session, status, limit)


async def retry_cleanup(c: GenerationContainer, cleanup_id: uuid.UUID) -> None:
    """Put an open (parked or waiting) cleanup back to run now."""
    async with c.database.transaction() as session:
        if not await cleanups.reopen(session, cleanup_id):
            raise CleanupNotFound("No such open cleanup.")


def breaker_states(c: GenerationContainer) -> dict[str, str]:
    """Each configured provider's circuit-breaker state in this process."""
    states = c.breakers.states()
    return {name: states.get(name, "closed") for name in c.providers}
