"""Identity's part of a user's export (``ExportRequested``): ``identity.json`` with the profile,
the sessions and the security log, written through storage."""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, cast

from aiflux_contracts import ExportPartReady, ExportRequested
from aiflux_contracts.receipts import ExportPartReadyBase
from aiflux_kit.consumers import HandlerContext

from .ports import UserData

if TYPE_CHECKING:
    from ..bootstrap import IdentityContainer

PART = "identity.json"
PART_READY = cast("type[ExportPartReadyBase]", ExportPartReady["identity"])


async def export_document(data: UserData, user_id: uuid.UUID) -> dict[str, Any]:
    """What identity holds of the user: profile (no password hash), sessions (no token
    hashes), security log."""
    account = await data.account(user_id)
    return {
        "service": "identity",
        "user_id": str(user_id),
        "profile": None if account is None else asdict(account),
        "sessions": [asdict(s) for s in await data.sessions(user_id)],
        "security_log": [asdict(e) for e in await data.security_log(user_id)],
    }


async def on_export_requested(c: IdentityContainer, ctx: HandlerContext, event: ExportRequested) -> None:
    """Write identity.json through storage's export route, then announce the part.

    Not for an erased user: the erasure cancelled the export (storage answers 410 too), so the
    event finishes without a part.
    """
    data = c.user_data(ctx.session)
    if await data.is_erased(event.user_id):
        return
    document = await export_document(data, event.user_id)
    body = json.dumps(document, default=str, indent=2).encode()
    key = await c.export_parts.put(event.request_id, event.user_id, PART, body)
    if key is None:
        return  # the user was erased meanwhile: storage cancelled the export, no part
    await ctx.publish(
        PART_READY(
            request_id=event.request_id,
            user_id=event.user_id,
            prefix=key.rsplit("/", 1)[0] if "/" in key else "",
            objects=[PART],
        )
    )
