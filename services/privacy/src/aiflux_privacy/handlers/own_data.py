"""The privacy service as a participant like any other: erasing, counting and exporting what it
holds of a user (consents, requests, restrictions, minor reports, published messages).

Decision on consent records at erasure: they are deleted, not kept pseudonymised. They prove the
lawfulness of processing based on consent (marketing, analytics, policy acceptance), and once
the account is erased no such processing continues, so the proof no longer has a purpose that
outweighs Art. 17. What remains is the erasure request itself, pseudonymised when the
certificate is issued (only a peppered hash of the user id stays).
"""

from __future__ import annotations

import uuid
from typing import Any

from aiflux_kit.erasure import receipt_messaging
from sqlalchemy.ext.asyncio import AsyncSession

from ..adapters import user_data
from ..adapters.repositories import requests_of_user
from .consents import ledger


async def erase_user(
    session: AsyncSession, user_id: uuid.UUID, keep_request: uuid.UUID, name_sha256: str | None = None
) -> dict[str, int]:
    """Delete everything privacy holds of the user except the erasure request being tracked."""
    return await user_data.delete_of_user(session, user_id, keep_request, name_sha256)


async def remaining_of_user(
    session: AsyncSession, user_id: uuid.UUID, tracked_request: uuid.UUID
) -> dict[str, int]:
    """What privacy still holds of the user (the tracked erasure request aside), its messaging
    included."""
    return await user_data.count_of_user(session, user_id, tracked_request)


async def remaining_once_erased(
    session: AsyncSession, user_id: uuid.UUID, tracked_request: uuid.UUID
) -> dict[str, int]:
    """What privacy still holds of the user, counted in the erasure's transaction for its
    receipt: the rows (all 0), the guard, and the messages kept for the messaging retention
    (``erasure_messages``, the receipt included)."""
    return receipt_messaging(await user_data.count_of_user(session, user_id, tracked_request))


async def export_document(session: AsyncSession, user_id: uuid.UUID) -> dict[str, Any]:
    """``privacy.json``: the user's consents and data-subject requests."""
    requests = await requests_of_user(session, user_id)
    return {
        "service": "privacy",
        "user_id": str(user_id),
        "consents": await ledger(session, user_id),
        "requests": [
            {
                "id": str(r.id),
                "type": r.type,
                "status": r.status,
                "details": r.details,
                "received_at": r.received_at.isoformat(),
                "due_at": r.due_at.isoformat(),
                "outcome": r.outcome,
                "answer": r.answer,
                "extension_reason": r.extension_reason,
            }
            for r in requests
        ],
    }
