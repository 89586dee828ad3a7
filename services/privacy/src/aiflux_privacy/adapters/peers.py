"""Clients of the internal routes of storage and identity (see docs/architecture.md)."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import httpx
from aiflux_kit.http import retrying

from ..domain.errors import (
    ExportExpired,
    IdentityUnavailable,
    NotFound,
    StorageUnavailable,
)


class ExportCancelled(Exception):
    """Storage refused an export object (410): the user is erased, the export is cancelled."""


def _raise_for_export(response: httpx.Response) -> None:
    if response.status_code == 410:
        raise ExportCancelled
    response.raise_for_status()


class StorageClient:
    """Storage's internal routes: export parts, the user's files, the export archive."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._http = client

    async def put_export_object(
        self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes
    ) -> None:
        """Store one export part object of ``user_id`` (idempotent: a re-drive overwrites it).

        Raises :class:`ExportCancelled` when storage refuses it because the user is erased.
        """

        async def call() -> None:
            response = await self._http.put(
                f"/internal/storage/exports/{request_id}/objects/{quote(name)}",
                params={"user_id": str(user_id)},
                content=body,
            )
            _raise_for_export(response)

        await retrying(call)

    async def user_files(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        """Metadata of every file the user has (uploads and generated outputs)."""

        async def call() -> Any:
            response = await self._http.get(f"/internal/storage/users/{user_id}/files")
            response.raise_for_status()
            return response.json()

        body = await retrying(call)
        items: list[dict[str, Any]] = body["items"] if isinstance(body, dict) else body
        return items

    async def build_archive(self, request_id: uuid.UUID, user_id: uuid.UUID, plan: dict[str, Any]) -> None:
        """Have storage build and store the ZIP of ``user_id``'s export from its own store, as
        ``plan`` lists it (the manifest, then parts and files). No timeout: a big export takes
        as long as copying its files.

        Raises :class:`ExportCancelled` when storage refuses it because the user is erased.
        """
        response = await self._http.post(
            f"/internal/storage/exports/{request_id}/archive",
            json=plan,
            params={"user_id": str(user_id)},
            timeout=None,
        )
        _raise_for_export(response)

    async def archive_url(self, request_id: uuid.UUID) -> dict[str, Any]:
        """A short-lived signed URL of the archive."""
        response = await self._http.get(f"/internal/storage/exports/{request_id}/archive/url")
        if response.status_code == 404:
            raise ExportExpired("This export is no longer stored; please file a new request.")
        if not response.is_success:
            raise StorageUnavailable("The export cannot be reached right now; please retry.")
        body: dict[str, Any] = response.json()
        return body


class IdentityClient:
    """Identity's internal routes used by privacy."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._http = client

    async def suspend(self, user_id: uuid.UUID, reason: str) -> None:
        """Suspend an account (a minor's, under review or confirmed)."""
        try:
            response = await self._http.post(
                f"/internal/identity/users/{user_id}/suspend", json={"reason": reason}
            )
        except httpx.TransportError:
            response = None
        if response is None or response.status_code >= 500:
            raise IdentityUnavailable("The account could not be suspended right now; please retry.")
        if response.status_code == 404:
            raise NotFound("account")
        response.raise_for_status()


async def owner_sweeps(base_url: str, service: str, credentials: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The last run of each sweep a service reports at its ops route, by sweep name; empty
    when the service cannot be asked (it is then shown as not reporting)."""
    try:
        async with httpx.AsyncClient(base_url=base_url, timeout=5.0) as client:
            response = await client.get(f"/v1/ops/{service}/sweeps", headers=credentials)
    except httpx.TransportError:
        return {}
    if not response.is_success:
        return {}
    return {item["name"]: item for item in response.json().get("items", [])}
