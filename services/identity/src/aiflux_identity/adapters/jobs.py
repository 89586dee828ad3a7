"""Work done after the response, by a few tasks of this process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[None]]


class BackgroundJobs:
    """A bounded queue of work done after the response, by a few tasks of this process.

    Requests whose answer must not tell whether an address has an account (forgot password,
    resend verification) hand *all* of the account-dependent work (lookup, token, mail) to this
    queue on every branch, so the request path does the same thing either way. When the queue
    is full the job is dropped (logged), again the same for every branch.
    """

    def __init__(self, maxsize: int = 1000, concurrency: int = 4) -> None:
        self._maxsize, self._concurrency = maxsize, concurrency
        self._queue: asyncio.Queue[Job] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def submit(self, job: Job) -> bool:
        """Queue ``job``; False (and logged) when the queue is full."""
        queue = self._started()
        try:
            queue.put_nowait(job)
        except asyncio.QueueFull:
            log.warning("background job dropped: queue full")
            return False
        return True

    def _started(self) -> asyncio.Queue[Job]:
        loop = asyncio.get_running_loop()
        if self._queue is None or self._loop is not loop:
            self._loop, self._queue = loop, asyncio.Queue(self._maxsize)
            self._tasks = {loop.create_task(self._run(self._queue)) for _ in range(self._concurrency)}
        return self._queue

    @staticmethod
    async def _run(queue: asyncio.Queue[Job]) -> None:
        while True:
            job = await queue.get()
            try:
                await job()
            except Exception as exc:
                log.warning("background job failed", extra={"error": type(exc).__name__})
            finally:
                queue.task_done()

    async def drain(self, timeout_s: float = 30.0) -> None:
        """Wait (up to ``timeout_s``) for queued work, then stop the tasks (on shutdown)."""
        queue, tasks = self._queue, self._tasks
        self._queue, self._loop, self._tasks = None, None, set()
        if queue is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.join(), timeout_s)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
