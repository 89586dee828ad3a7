"""Builds the identity service from its settings; nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit

from .api import build_router
from .consumers import subscriptions
from .settings import IdentitySettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class IdentityContainer:
    """What the identity handlers need, built once."""

    settings: IdentitySettings
    database: Database
    platform: Platform


def build(platform: Platform, settings: IdentitySettings | None = None) -> ServiceUnit:
    """The identity service, wired to real adapters."""
    settings = settings or IdentitySettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    container = IdentityContainer(settings, database, platform)
    return ServiceUnit(
        name="identity",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(),
        container=container,
        subscriptions=subscriptions(container),
    )
