"""Hooks on the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession


def on_commit(session: AsyncSession, callback: Callable[[], None]) -> None:
    """Call ``callback`` once ``session``'s transaction commits (what it wrote is then visible
    to every other connection); never when it rolls back. Runs on the event loop's thread."""
    event.listen(session.sync_session, "after_commit", lambda _session: callback(), once=True)
