"""Builds the billing service from its settings; nothing happens at import time.

``build(platform, settings, **fakes)`` wires the real adapters; unit tests hand it fakes
(``gateway=``, ``exports=``) instead. The FastAPI dependency aliases the routes share live here
too, beside the container they resolve.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from aiflux_kit.auth import InternalAuth
from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit, Sweep
from fastapi import Depends, Query, Request

from .adapters.checkout import CheckoutGateway, StripeCheckout
from .adapters.simulated import SimulatedCheckout
from .adapters.storage import StorageExports
from .handlers import sweeps
from .handlers.export import ExportSink
from .metrics import hold_metrics
from .settings import BillingSettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class BillingContainer:
    """What the billing handlers need, built once."""

    settings: BillingSettings
    database: Database
    platform: Platform
    gateway: CheckoutGateway
    exports: ExportSink
    internal_auth: InternalAuth
    simulated: SimulatedCheckout | None = None


async def container(request: Request) -> BillingContainer:
    """The billing container of the running app (async: FastAPI runs a plain ``def``
    dependency in a worker thread, a thread hop per request)."""
    built: BillingContainer = request.app.state.services["billing"]
    return built


Container = Annotated[BillingContainer, Depends(container)]
"""The billing service's container (settings, database, checkout gateway)."""

Limit = Annotated[int, Query(ge=1, le=200)]
"""Page size of list routes."""

BIGINT_MAX = 2**63 - 1
"""The largest sequence number PostgreSQL's ``bigint`` holds: a larger cursor names no row."""

Cursor = Annotated[int | None, Query(ge=1, le=BIGINT_MAX, description="next_cursor of the previous page")]
"""Opaque position in a list (the last item's sequence number)."""


async def generation_caller(request: Request, built: Container) -> str:
    """Admits only the generation service (its service token), for the hold routes."""
    guard: Any = built.internal_auth.require("generation")  # a Depends(...) marker
    caller: str = await guard.dependency(request)
    return caller


GenerationCaller = Depends(generation_caller)
"""Route dependency: the caller must be the generation service."""


def build_gateway(settings: BillingSettings, database: Database) -> CheckoutGateway:
    """Stripe, or the local simulation (embedded mode's default)."""
    if settings.checkout_backend == "simulated":
        return SimulatedCheckout(database, settings)
    return StripeCheckout(settings)


def build_sweeps(built: BillingContainer) -> list[Sweep]:
    """hold-expiry, stripe-reconciliation and payment-retention (k8s CronJobs use these names)."""
    s, db = built.settings, built.database

    async def hold_expiry() -> dict[str, int]:
        return await sweeps.expire_holds(db)

    async def stripe_reconciliation() -> dict[str, int]:
        return await sweeps.reconcile(db, built.gateway, s.reconciliation_lookback_s)

    async def payment_retention() -> dict[str, int]:
        return await sweeps.purge_old_payments(db)

    return [
        Sweep("hold-expiry", s.hold_expiry_interval_s, hold_expiry),
        Sweep("stripe-reconciliation", s.reconciliation_interval_s, stripe_reconciliation),
        Sweep("payment-retention", s.retention_interval_s, payment_retention),
    ]


def build_container(
    platform: Platform,
    settings: BillingSettings,
    *,
    gateway: CheckoutGateway | None = None,
    exports: ExportSink | None = None,
) -> BillingContainer:
    """The container, with real adapters wherever no fake is handed in."""
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    gateway = gateway or build_gateway(settings, database)
    auth = InternalAuth(
        "billing", {name: key.get_secret_value() for name, key in settings.trusted_callers.items()}
    )
    return BillingContainer(
        settings,
        database,
        platform,
        gateway,
        exports or StorageExports(settings),
        auth,
        gateway if isinstance(gateway, SimulatedCheckout) else None,
    )


def build(
    platform: Platform,
    settings: BillingSettings | None = None,
    *,
    gateway: CheckoutGateway | None = None,
    exports: ExportSink | None = None,
) -> ServiceUnit:
    """The billing service, wired to real adapters (or to the fakes given)."""
    from .api import build_router  # the routes import this module's aliases
    from .consumers import subscriptions

    settings = settings or BillingSettings()
    built = build_container(platform, settings, gateway=gateway, exports=exports)
    return ServiceUnit(
        name="billing",
        settings=settings,
        database=built.database,
        migrations=MIGRATIONS,
        router=build_router(settings),
        container=built,
        subscriptions=subscriptions(built),
        sweeps=build_sweeps(built),
        metrics=[hold_metrics(built.database)],
    )
