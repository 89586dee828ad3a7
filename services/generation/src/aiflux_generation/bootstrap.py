"""Builds the generation service from its settings; nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit

from .api import build_router
from .consumers import subscriptions
from .settings import GenerationSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class GenerationContainer:
    """What the generation handlers need, built once."""

    settings: GenerationSettings
    database: Database
    platform: Platform


def build(platform: Platform, settings: GenerationSettings | None = None) -> ServiceUnit:
    """The generation service, wired to real adapters."""
    settings = settings or GenerationSettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    container = GenerationContainer(settings, database, platform)
    return ServiceUnit(
        name="generation",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(),
        container=container,
        subscriptions=subscriptions(container),
    )
