"""Builds the privacy service from its settings; nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit

from .api import build_router
from .consumers import subscriptions
from .settings import PrivacySettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class PrivacyContainer:
    """What the privacy handlers need, built once."""

    settings: PrivacySettings
    database: Database
    platform: Platform


def build(platform: Platform, settings: PrivacySettings | None = None) -> ServiceUnit:
    """The privacy service, wired to real adapters."""
    settings = settings or PrivacySettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    container = PrivacyContainer(settings, database, platform)
    return ServiceUnit(
        name="privacy",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(),
        container=container,
        subscriptions=subscriptions(container),
    )
