"""Files in storage: input metadata and content, output upload, export parts."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
from aiflux_kit.http import retrying

from .billing_client import PeerUnavailable

Body = bytes | Callable[[], AsyncIterator[bytes]]
"""An export part: its bytes, or a function that streams them (called again on each retry)."""


class OutputRefused(Exception):
    """Storage will not keep this output (its type is not one it stores)."""


@dataclass(frozen=True)
class FileInfo:
    """Metadata of a stored file."""

    file_id: uuid.UUID
    user_id: uuid.UUID
    content_type: str
    kind: str


class Storage(Protocol):
    """What generation needs from storage."""

    async def file_info(self, file_id: uuid.UUID) -> FileInfo | None:
        """Metadata, or None when there is no such file."""

    async def content(self, file_id: uuid.UUID) -> bytes:
        """The file's bytes."""

    async def store_output(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, filename: str, content_type: str, data: bytes
    ) -> uuid.UUID:
        """Keep a generated output; return its file id."""

    async def put_export(
        self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, data: Body
    ) -> str | None:
        """Write one part of a user's access export; return its key, or None when the user
        was erased (the export is cancelled)."""


def kind_of(content_type: str) -> str:
    """``image``, ``video``, ``audio`` or ``other`` from a media type."""
    major = content_type.split("/", 1)[0]
    return major if major in ("image", "video", "audio") else "other"


class HttpStorage:
    """Storage's internal routes over a signed peer client."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    async def file_info(self, file_id: uuid.UUID) -> FileInfo | None:
        """``GET /internal/storage/files/{file_id}``."""
        response = await self._call("GET", f"/internal/storage/files/{file_id}")
        if response.status_code == 404:
            return None
        body = response.json()
        content_type = str(body.get("content_type", "application/octet-stream"))
        return FileInfo(
            uuid.UUID(str(body["file_id"])),
            uuid.UUID(str(body["user_id"])),
            content_type,
            str(body.get("kind") or kind_of(content_type)),
        )

    async def content(self, file_id: uuid.UUID) -> bytes:
        """``GET /internal/storage/files/{file_id}/content``."""
        response = await self._call("GET", f"/internal/storage/files/{file_id}/content")
        if not response.is_success:
            raise PeerUnavailable(f"storage answered {response.status_code}")
        return response.content

    async def store_output(
        self, user_id: uuid.UUID, generation_id: uuid.UUID, filename: str, content_type: str, data: bytes
    ) -> uuid.UUID:
        """``POST /internal/storage/files`` (multipart, purpose=output).

        Sent once: an upload is not idempotent, and the worker retries the step later,
        skipping outputs already saved."""
        try:
            response = await self._client.post(
                "/internal/storage/files",
                data={"user_id": str(user_id), "purpose": "output", "generation_id": str(generation_id)},
                files={"file": (filename, data, content_type)},
            )
        except httpx.HTTPError as exc:
            raise PeerUnavailable(type(exc).__name__) from None
        if 400 <= response.status_code < 500:
            raise OutputRefused(f"storage refused an output ({response.status_code})")
        if response.status_code != 201:
            raise PeerUnavailable(f"storage answered {response.status_code}")
        return uuid.UUID(str(response.json()["file_id"]))

    async def put_export(
        self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, data: Body
    ) -> str | None:
        """``PUT /internal/storage/exports/{request_id}/objects/{name}?user_id=`` (a streamed
        body goes up as it is made); None when storage answers 410 (the user was erased: the
        export is cancelled)."""
        response = await self._call(
            "PUT",
            f"/internal/storage/exports/{request_id}/objects/{name}",
            content=lambda: data if isinstance(data, bytes) else data(),
            params={"user_id": str(user_id)},
            headers={"Content-Type": "application/json"},
        )
        if response.status_code == 410:
            return None
        if response.status_code not in (200, 201):
            raise PeerUnavailable(f"storage refused the export part ({response.status_code})")
        return str(response.json().get("key", f"exports/{request_id}/{name}"))

    async def _call(
        self,
        method: str,
        path: str,
        content: Callable[[], bytes | AsyncIterator[bytes]] | None = None,
        **kwargs: object,
    ) -> httpx.Response:
        """One call, retried on connection errors and 5xx; ``content`` makes the body afresh
        for each attempt (a stream cannot be sent twice)."""

        async def once() -> httpx.Response:
            if content is not None:
                kwargs["content"] = content()
            response = await self._client.request(method, path, **kwargs)  # type: ignore[arg-type]
            if response.status_code >= 500:
                response.raise_for_status()
            return response

        try:
            return await retrying(once)
        except httpx.HTTPError as exc:
            raise PeerUnavailable(type(exc).__name__) from None
