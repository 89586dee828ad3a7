"""Builds the billing service from its settings; nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit

from .api import build_router
from .consumers import subscriptions
from .settings import BillingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class BillingContainer:
    """What the billing handlers need, built once."""

    settings: BillingSettings
    database: Database
    platform: Platform


def build(platform: Platform, settings: BillingSettings | None = None) -> ServiceUnit:
    """The billing service, wired to real adapters."""
    settings = settings or BillingSettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    container = BillingContainer(settings, database, platform)
    return ServiceUnit(
        name="billing",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(),
        container=container,
        subscriptions=subscriptions(container),
    )
