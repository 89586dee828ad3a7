"""Builds the generation service from its settings; nothing happens at import time."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import httpx
from aiflux_kit.db import Database
from aiflux_kit.http import peer_client, processor_client, result_download_client
from aiflux_kit.service import Platform, ServiceUnit, Sweep
from fastapi import Depends, Request

from .adapters import repository as repo
from .adapters.billing_client import Billing, HttpBilling
from .adapters.fakes import InMemoryBilling, InMemoryStorage
from .adapters.providers.atlascloud import AtlasCloud
from .adapters.providers.base import Breakers, Provider
from .adapters.providers.gemini import Gemini
from .adapters.providers.local import LocalProvider
from .adapters.providers.runpod import RunPod
from .adapters.providers.wavespeed import WaveSpeed
from .adapters.storage_client import HttpStorage, Storage
from .adapters.store import SqlStores, Stores
from .consumers import subscriptions
from .domain.catalog import Catalog
from .handlers.cleanup import CleanupWorker, finish_erasures
from .handlers.lifecycle import JobWorker
from .metrics import breaker_metrics
from .settings import GenerationSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class GenerationContainer:
    """What the generation handlers need, built once."""

    settings: GenerationSettings
    database: Database
    platform: Platform
    catalog: Catalog
    billing: Billing
    storage: Storage
    providers: dict[str, Provider]
    breakers: Breakers
    stores: Stores
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    def use_in_memory_peers(self) -> tuple[InMemoryBilling, InMemoryStorage]:
        """Swap billing and storage for in-memory fakes (tests of this service alone)."""
        billing, storage = InMemoryBilling(), InMemoryStorage()
        self.billing, self.storage = billing, storage
        return billing, storage


async def container(request: Request) -> GenerationContainer:
    """The generation container (same in the one-service and the embedded app)."""
    found: GenerationContainer = request.app.state.services["generation"]
    return found


Container = Annotated[GenerationContainer, Depends(container)]


def build_providers(settings: GenerationSettings) -> dict[str, Provider]:
    """One adapter per provider, each through a client bound to its registered processor."""

    def client(processor: str, base_url: str) -> httpx.AsyncClient:
        return processor_client(processor, settings, base_url=base_url, timeout=settings.provider_timeout_s)

    s = settings
    results = result_download_client(settings, timeout=settings.provider_timeout_s)
    return {
        "wavespeed": WaveSpeed(
            client("wavespeed", s.wavespeed_base_url), s.wavespeed_api_key.get_secret_value(), results
        ),
        "gemini": Gemini(
            client("gemini", s.gemini_base_url), s.gemini_api_key.get_secret_value(), s.gemini_base_url
        ),
        "runpod": RunPod(client("runpod", s.runpod_base_url), s.runpod_api_key.get_secret_value()),
        "atlascloud": AtlasCloud(
            client("atlascloud", s.atlascloud_base_url), s.atlascloud_api_key.get_secret_value(), results
        ),
        "local": LocalProvider(s.local_delay_s),
    }


def build(
    platform: Platform,
    settings: GenerationSettings | None = None,
    *,
    billing: Billing | None = None,
    storage: Storage | None = None,
    providers: dict[str, Provider] | None = None,
    stores: Stores | None = None,
) -> ServiceUnit:
    """The generation service, wired to real adapters (or to the fakes handed in)."""
    from .api import build_router  # the routes import this module for ``Container``

    settings = settings or GenerationSettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    peers = [peer_client("generation", "billing", settings), peer_client("generation", "storage", settings)]
    providers = providers if providers is not None else build_providers(settings)
    container = GenerationContainer(
        settings,
        database,
        platform,
        catalog=Catalog.from_config(
            settings.catalog,
            offline=settings.is_offline,
            allow_local=settings.is_local or settings.is_offline,
        ),
        billing=billing or HttpBilling(peers[0]),
        storage=storage or HttpStorage(peers[1]),
        providers=providers,
        breakers=Breakers(settings.breaker_fail_max, settings.breaker_reset_s),
        stores=stores or SqlStores(database),
    )

    async def close_clients() -> None:
        for client in peers:
            await client.aclose()
        for adapter in providers.values():
            inner = getattr(adapter, "_client", None)
            if inner is not None:
                await inner.aclose()

    return ServiceUnit(
        name="generation",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(settings),
        container=container,
        subscriptions=subscriptions(container),
        sweeps=[Sweep("stuck-jobs", settings.stuck_sweep_interval_s, lambda: sweep_stuck_jobs(container))],
        workers=[JobWorker(container).run, CleanupWorker(container).run],
        on_stop=[close_clients],
        metrics=[breaker_metrics(container.breakers, container.providers)],
    )


async def sweep_stuck_jobs(c: GenerationContainer) -> dict[str, int]:
    """Jobs past their deadline whose lease keeps them from the worker are made due now (the
    worker then fails them and voids their holds); erasures whose cleanups finished close."""
    async with c.database.transaction() as session:
        overdue = await repo.overdue_jobs_due_now(session)
    if overdue:
        c.wake.set()
    closed = await finish_erasures(c)
    return {"overdue_jobs": overdue, "erasures_closed": closed}
