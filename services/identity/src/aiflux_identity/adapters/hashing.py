"""bcrypt hashing off the event loop, in a thread pool bounded to the cores, at a lower
priority than the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt

from ..domain.passwords import MAX_BYTES

T = TypeVar("T")

HASH_THREAD_NICE = 2
"""How much lower than the rest of the process the hashing threads run (Linux nice values are
per thread). bcrypt releases the GIL, so without it the hashing threads compete with the event
loop's thread for the cores as equals, and every other request (health probes included) waits
behind a login. The loop needs little CPU; the threads still get every cycle it leaves. Kept
mild on purpose: at +5, on a host crowded by other processes of the same CPU group, logins
starved outright (0-0.1 logins/s where +0 and +2 did 0.6-0.95, the same hour); SCHED_IDLE
threads starved too (0.41 of raw bcrypt at load average 7, where +2 did 0.73-1.0 that hour).
Health probes need no more: at +2, `/healthz` p99 under the bench's login load is 10-17 ms on
this 2-core machine at load average 2 (its 44-61 ms misses were delayed ACKs on the test
stack's socket, not CPU)."""


def usable_cores() -> int:
    """The cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _lower_priority() -> None:
    with contextlib.suppress(OSError, AttributeError):
        os.nice(HASH_THREAD_NICE)  # this thread only, on Linux


class PasswordHasher:
    """bcrypt in a thread pool of at most one thread per core (``workers`` caps it further),
    so hashing never blocks the event loop nor starves it of CPU."""

    def __init__(self, rounds: int, workers: int) -> None:
        self.rounds = rounds
        self.workers = max(1, min(workers, usable_cores()))
        self._pool = ThreadPoolExecutor(
            max_workers=self.workers, thread_name_prefix="bcrypt", initializer=_lower_priority
        )
        self._dummy: str | None = None

    async def hash(self, password: str) -> str:
        """A salted bcrypt hash of ``password`` (rules already checked)."""
        rounds = self.rounds
        return await self._run(lambda: bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds)).decode())

    async def verify(self, password: str, password_hash: str | None) -> bool:
        """True when ``password`` matches; an unknown account (None) costs the same time."""
        if password_hash is None:
            password_hash = await self._dummy_hash()
            await self._check(password, password_hash)
            return False
        return await self._check(password, password_hash)

    async def _check(self, password: str, password_hash: str) -> bool:
        raw = password.encode()
        if len(raw) > MAX_BYTES:
            raw = raw[:0]  # cannot match a stored hash; still spend the same time
        return await self._run(lambda: bcrypt.checkpw(raw, password_hash.encode()))

    async def _dummy_hash(self) -> str:
        if self._dummy is None:
            self._dummy = await self.hash("timing-equaliser-not-a-password")
        return self._dummy

    async def _run(self, fn: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn)

    def close(self) -> None:
        """Stop the worker threads."""
        self._pool.shutdown(wait=False, cancel_futures=True)
