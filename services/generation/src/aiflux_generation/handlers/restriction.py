"""``privacy.ProcessingRestricted``: keep or lift the user's restriction."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiflux_contracts import ProcessingRestricted
from aiflux_kit.consumers import HandlerContext

if TYPE_CHECKING:
    from ..bootstrap import GenerationContainer


async def on_processing_restricted(
    c: GenerationContainer, ctx: HandlerContext, event: ProcessingRestricted
) -> None:
    """Keep (or lift) the user's restriction; new generations are refused while it holds.
    An erased user has nothing left to restrict (and gets no row again)."""
    store = c.stores.bound(ctx.session)
    if await store.is_erased(event.user_id):
        return
    await store.set_restriction(event.user_id, event.restricted)
