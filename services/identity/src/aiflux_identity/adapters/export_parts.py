"""Where export parts go: storage's internal export route."""

from __future__ import annotations

import uuid

import httpx
from aiflux_kit.http import peer_client, retrying

from ..settings import IdentitySettings


class StorageExportParts:
    """Writes a part of a user's export through storage (``PUT .../objects/{name}``)."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings

    async def put(self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes) -> str | None:
        """Store the part; its key, or None when storage answers 410 (the user was erased
        and the export cancelled: the caller finishes without a part, never retries)."""
        path = f"/internal/storage/exports/{request_id}/objects/{name}"
        async with peer_client("identity", "storage", self.settings) as client:

            async def put() -> httpx.Response:
                response: httpx.Response = await client.put(
                    path,
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
