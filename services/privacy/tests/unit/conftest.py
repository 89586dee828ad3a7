"""Unit tier: in-memory stand-ins for privacy's peers, handed to ``bootstrap.build``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from aiflux_kit.service import Platform
from aiflux_privacy.bootstrap import PrivacyContainer, build
from aiflux_privacy.domain.records import PrivacyRequest
from aiflux_privacy.settings import PrivacySettings

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def a_request(user_id: uuid.UUID, type: str, status: str, source: str) -> PrivacyRequest:
    """An open request of ``user_id`` received ``NOW``, with nothing decided yet."""
    return PrivacyRequest(
        id=uuid.uuid4(),
        user_id=user_id,
        subject_hash=None,
        type=type,
        status=status,
        source=source,
        details=None,
        received_at=NOW,
        due_at=NOW,
        extended_at=None,
        extension_reason=None,
        outcome=None,
        answer=None,
        closed_at=None,
        progress_at=NOW,
        redrives=0,
        certificate=None,
        archive_expires_at=None,
        status_token_sha256=None,
    )


class FakeStorage:
    """Storage's internal routes, held in dictionaries."""

    def __init__(self) -> None:
        self.objects: dict[tuple[uuid.UUID, str], bytes] = {}
        self.files: dict[uuid.UUID, list[tuple[dict[str, Any], bytes]]] = {}
        self.archives: dict[uuid.UUID, dict[str, Any]] = {}

    async def put_export_object(
        self, request_id: uuid.UUID, user_id: uuid.UUID, name: str, body: bytes
    ) -> None:
        self.objects[(request_id, name)] = body

    async def user_files(self, user_id: uuid.UUID) -> list[dict[str, Any]]:
        return [meta for meta, _ in self.files.get(user_id, [])]

    async def build_archive(self, request_id: uuid.UUID, user_id: uuid.UUID, plan: dict[str, Any]) -> None:
        self.archives[request_id] = plan

    async def archive_url(self, request_id: uuid.UUID) -> dict[str, Any]:
        return {"url": f"https://objects.invalid/{request_id}.zip"}


class FakeIdentity:
    """Identity's internal routes: remembers whom it suspended."""

    def __init__(self) -> None:
        self.suspended: list[tuple[uuid.UUID, str]] = []

    async def suspend(self, user_id: uuid.UUID, reason: str) -> None:
        self.suspended.append((user_id, reason))


@pytest.fixture
def container(tmp_path: Path) -> PrivacyContainer:
    """The privacy service built with fake peers (nothing is connected or started)."""
    platform = Platform(
        mode="embedded",
        broker=None,
        limiter=None,  # type: ignore[arg-type]
        data_dir=tmp_path,
    )
    unit = build(
        platform,
        PrivacySettings(env="test"),
        storage=FakeStorage(),  # type: ignore[arg-type]
        identity=FakeIdentity(),
    )  # type: ignore[arg-type]
    found: PrivacyContainer = unit.container
    return found
