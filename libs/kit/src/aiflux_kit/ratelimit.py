"""Rate limits shared across replicas (Redis) or in-process (embedded), via ``limits``."""

from __future__ import annotations

import math
import time

from limits import parse
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from .errors import Problem


class RateLimiter:
    """Checks ``scope`` limits such as ``"5/minute"`` for an identifier (an IP, a user id)."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._limiter = MovingWindowRateLimiter(storage)

    @classmethod
    def from_url(cls, redis_url: str | None) -> RateLimiter:
        """Redis-backed when a URL is given (shared by every replica), else in memory."""
        if redis_url:
            return cls(RedisStorage(redis_url.replace("redis://", "async+redis://", 1)))
        return cls(MemoryStorage())

    async def hit(self, scope: str, identifier: str, limit: str) -> None:
        """Count one hit; raise a 429 problem with ``Retry-After`` when over ``limit``."""
        item = parse(limit)
        if await self._limiter.hit(item, scope, identifier):
            return
        stats = await self._limiter.get_window_stats(item, scope, identifier)
        retry_after = max(1, math.ceil(stats.reset_time - time.time()))
        raise Problem(
            429,
            "rate-limited",
            "Too many requests",
            f"Too many attempts; retry in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
            retry_after=retry_after,
        )

    async def reset(self) -> None:
        """Clear every counter (tests and ops)."""
        await self._storage.reset()

    async def healthy(self) -> bool:
        """True when the counter store answers."""
        try:
            return bool(await self._storage.check())
        except Exception:
            return False
