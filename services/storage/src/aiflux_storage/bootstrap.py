"""Builds the storage service from its settings; nothing happens at import time.

The container is the one place the service's parts meet; routes reach it through the
``Container`` dependency, consumers and sweeps are handed it.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast

from aiflux_kit.auth import InternalAuth
from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit, Sweep
from fastapi import Depends, Request

from .adapters.objects import LocalDiskStore, ObjectStore
from .adapters.repository import SqlRecordStore
from .adapters.signing import UrlSigner
from .domain.content import FileType
from .handlers.ports import RecordStore
from .settings import StorageSettings

MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["Container", "StorageContainer", "build", "build_store", "container", "peers"]


@dataclass
class StorageContainer:
    """Settings, records, object store and URL signer of the storage service."""

    settings: StorageSettings
    records: RecordStore
    platform: Platform
    store: ObjectStore
    signer: UrlSigner
    spool_dir: Path
    internal_auth: InternalAuth

    def limit_for(self, file_type: FileType) -> int:
        """The upload size limit of a type's kind."""
        return {
            "image": self.settings.max_image_bytes,
            "video": self.settings.max_video_bytes,
            "audio": self.settings.max_audio_bytes,
        }[file_type.kind]

    @property
    def upload_ceiling(self) -> int:
        """The largest upload of any kind."""
        s = self.settings
        return max(s.max_image_bytes, s.max_video_bytes, s.max_audio_bytes)


async def container(request: Request) -> StorageContainer:
    """The storage service's container (same in the one-service and the embedded app)."""
    found: StorageContainer = request.app.state.services["storage"]
    return found


Container = Annotated[StorageContainer, Depends(container)]


def peers(*allowed: str) -> Any:
    """A dependency admitting only the ``allowed`` peer services (their service tokens)."""

    async def _guard(request: Request) -> str:
        guard = (await container(request)).internal_auth.require(*allowed)
        caller: str = await cast(Any, guard).dependency(request)  # require() gives a Depends
        return caller

    return Depends(_guard)


def _signing_key(settings: StorageSettings) -> bytes:
    if settings.url_signing_key is not None:
        return settings.url_signing_key.get_secret_value().encode()
    # A key of its own, derived from the service key, so leaking one does not give the other.
    return hmac.new(
        settings.service_key.get_secret_value().encode(), b"storage:download-urls", hashlib.sha256
    ).digest()


def build_store(settings: StorageSettings, data_dir: Path, signer: UrlSigner, spool: Path) -> ObjectStore:
    """The object store chosen by ``settings.backend`` (local disk unless production)."""
    if settings.resolved_backend() == "s3":
        from .adapters.s3 import S3Store, s3_client

        return S3Store(s3_client(settings), settings.s3_bucket)
    return LocalDiskStore(settings.local_root or data_dir / "objects", spool, signer)


def _sweeps(c: StorageContainer) -> list[Sweep]:
    from .handlers.sweeps import sweep_expired_archives, sweep_orphan_objects

    return [
        Sweep("orphan-objects", c.settings.orphan_sweep_interval_s, lambda: sweep_orphan_objects(c)),
        Sweep("expired-archives", c.settings.archive_sweep_interval_s, lambda: sweep_expired_archives(c)),
    ]


def build(
    platform: Platform,
    settings: StorageSettings | None = None,
    *,
    records: RecordStore | None = None,
    store: ObjectStore | None = None,
) -> ServiceUnit:
    """The storage service, wired to real adapters unless fakes are handed in (unit tests)."""
    from .api import build_router
    from .consumers import subscriptions

    settings = settings or StorageSettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    signer = UrlSigner(_signing_key(settings), settings.public_url)
    spool = settings.spool_dir or platform.data_dir / "spool"
    trusted = {name: key.get_secret_value() for name, key in settings.trusted_callers.items()}
    c = StorageContainer(
        settings,
        records or SqlRecordStore(database),
        platform,
        store or build_store(settings, platform.data_dir, signer, spool),
        signer,
        spool,
        InternalAuth("storage", trusted),
    )
    return ServiceUnit(
        name="storage",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(settings),
        container=c,
        subscriptions=subscriptions(c),
        sweeps=_sweeps(c),
    )
