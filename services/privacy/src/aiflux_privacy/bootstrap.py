"""Builds the privacy service from its settings; nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.http import peer_client
from aiflux_kit.service import Platform, ServiceUnit, Sweep

from .adapters.peers import IdentityClient, StorageClient
from .api import build_router
from .consumers import subscriptions
from .container import PrivacyContainer
from .handlers.deadlines import flag_overdue
from .handlers.erasure import redrive_stalled
from .handlers.export import assembler
from .handlers.retention import expire_anonymous_consents
from .metrics import request_metrics
from .settings import PrivacySettings

MIGRATIONS = Path(__file__).parent / "migrations"


def build(platform: Platform, settings: PrivacySettings | None = None) -> ServiceUnit:
    """The privacy service, wired to real adapters."""
    settings = settings or PrivacySettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    storage_http = peer_client("privacy", "storage", settings, timeout=60.0)
    identity_http = peer_client("privacy", "identity", settings)
    container = PrivacyContainer(settings, database, platform, StorageClient(storage_http),
                                 IdentityClient(identity_http))

    async def redrive() -> dict[str, int]:
        return await redrive_stalled(database, settings.stall_after_s, settings.max_redrives)

    async def deadlines() -> dict[str, int]:
        return await flag_overdue(database)

    async def anonymous_consents() -> dict[str, int]:
        return await expire_anonymous_consents(database)

    return ServiceUnit(
        name="privacy",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(),
        container=container,
        subscriptions=subscriptions(container),
        sweeps=[Sweep("request-deadlines", settings.deadline_sweep_interval_s, deadlines),
                Sweep("erasure-redrive", settings.redrive_interval_s, redrive),
                Sweep("anonymous-consent-expiry", settings.deadline_sweep_interval_s,
                      anonymous_consents)],
        workers=[assembler(database, container.storage, settings.public_url,
                           settings.export_retention_days, settings.export_poll_interval_s)],
        on_stop=[storage_http.aclose, identity_http.aclose],
        metrics=[request_metrics(database, settings.stall_after_s)],
    )
