"""bcrypt hashing off the event loop, in a bounded thread pool."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import bcrypt

from ..domain.passwords import MAX_BYTES

T = TypeVar("T")


class PasswordHasher:
    """bcrypt in a bounded thread pool, so hashing never blocks the event loop."""

    def __init__(self, rounds: int, workers: int) -> None:
        self.rounds = rounds
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bcrypt")
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
