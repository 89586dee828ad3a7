"""Storage's internal export route, where billing writes its part of an access export."""

from __future__ import annotations

import uuid

import httpx
from aiflux_kit.http import peer_client, retrying

from ..settings import BillingSettings


class StorageExports:
    """``PUT /internal/storage/exports/{request_id}/objects/{name}?user_id=``."""

    def __init__(self, settings: BillingSettings) -> None:
        self._settings = settings

    async def put(self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes) -> str | None:
        """Store a part; its key, or None when storage answers 410 (the user was erased, the
        export is cancelled). Connection errors and 5xx are retried, then raised."""
        async with peer_client("billing", "storage", self._settings) as client:

            async def put() -> httpx.Response:
                response: httpx.Response = await client.put(
                    f"/internal/storage/exports/{request_id}/objects/{name}",
                    content=body,
                    params={"user_id": str(user_id)},
                    headers={"Content-Type": "application/json"},
                )
                if response.status_code != 410:
                    response.raise_for_status()
                return response

            response = await retrying(put)
        if response.status_code == 410:
            return None
        return str(response.json().get("key", f"exports/{request_id}/{name}"))
