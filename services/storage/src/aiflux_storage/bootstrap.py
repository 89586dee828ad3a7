"""Builds the storage service from its settings; nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit

from .api import build_router
from .consumers import subscriptions
from .settings import StorageSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class StorageContainer:
    """What the storage handlers need, built once."""

    settings: StorageSettings
    database: Database
    platform: Platform


def build(platform: Platform, settings: StorageSettings | None = None) -> ServiceUnit:
    """The storage service, wired to real adapters."""
    settings = settings or StorageSettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    container = StorageContainer(settings, database, platform)
    return ServiceUnit(
        name="storage",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(),
        container=container,
        subscriptions=subscriptions(container),
    )
