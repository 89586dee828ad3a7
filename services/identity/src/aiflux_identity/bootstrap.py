"""Builds the identity service from its settings; nothing happens at import time."""

from __future__ import annotations

from pathlib import Path

from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit

from .adapters.mail import build_mailer
from .api import build_router
from .consumers import subscriptions
from .domain.passwords import PasswordHasher
from .handlers.common import IdentityContainer
from .handlers.sessions import DbSessionVerifier
from .maintenance import sweeps, workers
from .routes_ops import record_admin_access
from .settings import IdentitySettings

MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["IdentityContainer", "build"]


def build(platform: Platform, settings: IdentitySettings | None = None) -> ServiceUnit:
    """The identity service, wired to real adapters."""
    settings = settings or IdentitySettings()
    database = Database(settings.database_url, pool_size=settings.db_pool_size)
    hasher = PasswordHasher(settings.bcrypt_rounds, settings.hash_workers)
    container = IdentityContainer(settings, database, platform, hasher,
                                  build_mailer(settings, platform.data_dir))
    callers = {name: key.get_secret_value() for name, key in settings.trusted_callers.items()}

    async def _close() -> None:
        await container.jobs.drain()  # queued mails go out before the database closes
        hasher.close()

    return ServiceUnit(
        name="identity",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(callers),
        container=container,
        subscriptions=subscriptions(container),
        sweeps=sweeps(container),
        workers=workers(container),
        on_stop=[_close],
        session_verifier=DbSessionVerifier(container),
        admin_audit=record_admin_access,
    )
