"""Builds the billing service from its settings; nothing happens at import time."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit, Sweep

from .adapters.checkout import CheckoutGateway, StripeCheckout
from .adapters.simulated import SimulatedCheckout
from .api import build_router
from .consumers import subscriptions
from .handlers import sweeps
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
    simulated: SimulatedCheckout | None = None


def build_gateway(settings: BillingSettings, database: Database) -> CheckoutGateway:
    """Stripe, or the local simulation (embedded mode's default)."""
    if settings.checkout_backend == "simulated":
        return SimulatedCheckout(database, settings)
    return StripeCheckout(settings)


def build_sweeps(container: BillingContainer) -> list[Sweep]:
    """hold-expiry, stripe-reconciliation and payment-retention (k8s CronJobs use these names)."""
    s, db = container.settings, container.database

    async def hold_expiry() -> dict[str, int]:
        return await sweeps.expire_holds(db)

    async def stripe_reconciliation() -> dict[str, int]:
        return await sweeps.reconcile(db, container.gateway, s.reconciliation_lookback_s)

    async def payment_retention() -> dict[str, int]:
        return await sweeps.purge_old_payments(db)

    return [Sweep("hold-expiry", s.hold_expiry_interval_s, hold_expiry),
            Sweep("stripe-reconciliation", s.reconciliation_interval_s, stripe_reconciliation),
            Sweep("payment-retention", s.retention_interval_s, payment_retention)]


def build(platform: Platform, settings: BillingSettings | None = None) -> ServiceUnit:
    """The billing service, wired to real adapters."""
    settings = settings or BillingSettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    gateway = build_gateway(settings, database)
    simulated = gateway if isinstance(gateway, SimulatedCheckout) else None
    container = BillingContainer(settings, database, platform, gateway, simulated)
    return ServiceUnit(
        name="billing",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(settings),
        container=container,
        subscriptions=subscriptions(container),
        sweeps=build_sweeps(container),
        metrics=[hold_metrics(database)],
    )
