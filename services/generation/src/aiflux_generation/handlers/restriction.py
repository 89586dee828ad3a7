"""``privacy.ProcessingRestricted``: keep or lift the user's restriction."""

from __future__ import annotations

from aiflux_contracts import ProcessingRestricted
from aiflux_kit.consumers import HandlerContext
from aiflux_kit.erasure import is_erased

from ..adapters import repository as repo


async def on_processing_restricted(ctx: HandlerContext, event: ProcessingRestricted) -> None:
    """Keep (or lift) the user's restriction; new generations are refused while it holds.
    An erased user has nothing left to restrict (and gets no row again)."""
    if await is_erased(ctx.session, event.user_id):
        return
    await repo.set_restriction(ctx.session, event.user_id, event.restricted)
