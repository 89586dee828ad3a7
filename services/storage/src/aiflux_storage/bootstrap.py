"""Builds the storage service from its settings; nothing happens at import time."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit, Sweep

from .adapters.objects import LocalDiskStore, ObjectStore
from .adapters.signing import UrlSigner
from .api import build_router
from .consumers import subscriptions
from .container import StorageContainer
from .handlers.sweeps import sweep_expired_archives, sweep_orphan_objects
from .settings import StorageSettings

MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["StorageContainer", "build", "build_store"]


def _signing_key(settings: StorageSettings) -> bytes:
    if settings.url_signing_key is not None:
        return settings.url_signing_key.get_secret_value().encode()
    # A key of its own, derived from the service key, so leaking one does not give the other.
    return hmac.new(settings.service_key.get_secret_value().encode(), b"storage:download-urls",
                    hashlib.sha256).digest()


def build_store(settings: StorageSettings, data_dir: Path, signer: UrlSigner,
                spool: Path) -> ObjectStore:
    """The object store chosen by ``settings.backend`` (local disk unless production)."""
    if settings.resolved_backend() == "s3":
        from .adapters.s3 import S3Store, s3_client

        return S3Store(s3_client(settings), settings.s3_bucket)
    return LocalDiskStore(settings.local_root or data_dir / "objects", spool, signer)


def build(platform: Platform, settings: StorageSettings | None = None) -> ServiceUnit:
    """The storage service, wired to real adapters."""
    settings = settings or StorageSettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    signer = UrlSigner(_signing_key(settings), settings.public_url)
    spool = settings.spool_dir or platform.data_dir / "spool"
    store = build_store(settings, platform.data_dir, signer, spool)
    container = StorageContainer(settings, database, platform, store, signer, spool)
    trusted = {name: key.get_secret_value() for name, key in settings.trusted_callers.items()}
    return ServiceUnit(
        name="storage",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(trusted),
        container=container,
        subscriptions=subscriptions(container),
        sweeps=[
            Sweep("orphan-objects", settings.orphan_sweep_interval_s,
                  lambda: sweep_orphan_objects(container)),
            Sweep("expired-archives", settings.archive_sweep_interval_s,
                  lambda: sweep_expired_archives(container)),
        ],
    )
