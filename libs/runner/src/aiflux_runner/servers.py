"""uvicorn servers as the runner's processes need them."""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Iterator

import uvicorn

GRACEFUL_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class ExitingServer(uvicorn.Server):
    """Shuts down gracefully on SIGINT/SIGTERM/SIGHUP and then returns, so the process ends
    normally. (uvicorn re-raises the signal after shutdown, which kills the process before its
    atexit handlers run: the embedded PostgreSQL would outlive `make run`.)"""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        previous = {signum: signal.signal(signum, self.handle_exit) for signum in GRACEFUL_SIGNALS}
        try:
            yield
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)


class SupervisedServer(uvicorn.Server):
    """Leaves the signals alone: the `make up` supervisor owns them and stops this server."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
