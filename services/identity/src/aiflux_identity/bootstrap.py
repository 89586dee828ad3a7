"""Builds the identity service from its settings; nothing happens at import time.

The container is the one object handlers receive; ``build`` wires the real adapters, and a
unit test hands in fakes (``build(platform, settings, mailer=..., hasher=...)``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode

from aiflux_kit.auth import InternalAuth
from aiflux_kit.db import Database
from aiflux_kit.service import Platform, ServiceUnit
from fastapi import Depends, Request

from .adapters.export_parts import StorageExportParts
from .adapters.hashing import PasswordHasher
from .adapters.jobs import BackgroundJobs
from .adapters.mail import Mail, Mailer, build_mailer
from .adapters.stores import SqlUserData
from .handlers.common import ClientInfo, log_mail_failure
from .handlers.ports import ExportParts, UserDataFactory
from .settings import IdentitySettings

MIGRATIONS = Path(__file__).parent / "migrations"

__all__ = ["Client", "Container", "IdentityContainer", "build"]


@dataclass
class IdentityContainer:
    """What the identity handlers need, built once by bootstrap."""

    settings: IdentitySettings
    database: Database
    platform: Platform
    hasher: PasswordHasher
    mailer: Mailer
    export_parts: ExportParts
    user_data: UserDataFactory = SqlUserData
    jobs: BackgroundJobs = field(default_factory=BackgroundJobs)
    internal_auth: InternalAuth | None = None

    def link(self, path: str, **query: str) -> str:
        """An absolute link under the configured public URL (never the request's Host)."""
        url = self.settings.public_url.rstrip("/") + path
        return f"{url}?{urlencode(query)}" if query else url

    async def send_mail(self, to: str, mail: Mail, *, user_id: uuid.UUID | None = None) -> bool:
        """Send a transactional mail after the state change committed; False when it failed.

        A mail server outage must not turn a completed request into an error: the user can ask
        for the link again. The log names the user id only, never the address.
        """
        try:
            await self.mailer.send(to, mail)
        except Exception as exc:
            log_mail_failure(exc, user_id=user_id, subject=mail.subject)
            return False
        return True

    async def limit(self, scope: str, identifier: str, rule: str) -> None:
        """Count one attempt against a rate limit (429 with Retry-After when over)."""
        await self.platform.limiter.hit(f"identity:{scope}", identifier, rule)


async def container(request: Request) -> IdentityContainer:
    """The identity container of this app (the one-service app and the embedded one alike)."""
    found: IdentityContainer = request.app.state.services["identity"]
    return found


async def client_info(request: Request, c: Annotated[IdentityContainer, Depends(container)]) -> ClientInfo:
    """The caller's IP (through the configured number of trusted proxies) and user agent."""
    hops = c.settings.trusted_proxy_hops
    ip = request.client.host if request.client else None
    forwarded = [p.strip() for p in request.headers.get("x-forwarded-for", "").split(",") if p.strip()]
    if hops and len(forwarded) >= hops:
        ip = forwarded[-hops]
    return ClientInfo(ip=ip, user_agent=request.headers.get("user-agent"))


Container = Annotated[IdentityContainer, Depends(container)]
Client = Annotated[ClientInfo, Depends(client_info)]


def build(platform: Platform, settings: IdentitySettings | None = None, **fakes: Any) -> ServiceUnit:
    """The identity service, wired to real adapters; ``fakes`` replace container fields
    (``mailer``, ``hasher``, ``database``, ``export_parts``, ``user_data``, ``jobs``) in unit
    tests."""
    from .api import build_router
    from .api.ops import record_admin_access
    from .consumers import subscriptions
    from .handlers.maintenance import sweeps, workers
    from .handlers.sessions import DbSessionVerifier

    settings = settings or IdentitySettings()
    c = _container(platform, settings, fakes)

    async def _close() -> None:
        await c.jobs.drain()  # queued mails go out before the database closes
        c.hasher.close()

    return ServiceUnit(
        name="identity",
        settings=settings,
        database=c.database,
        migrations=MIGRATIONS,
        router=build_router(settings),
        container=c,
        subscriptions=subscriptions(c),
        sweeps=sweeps(c),
        workers=workers(c),
        on_stop=[_close],
        session_verifier=DbSessionVerifier(c),
        admin_audit=record_admin_access,
    )


def _container(platform: Platform, settings: IdentitySettings, fakes: dict[str, Any]) -> IdentityContainer:
    callers = {name: key.get_secret_value() for name, key in settings.trusted_callers.items()}
    parts: dict[str, Any] = {
        "database": fakes.pop("database", None)
        or Database(settings.database_url, pool_size=settings.db_pool_size),
        "hasher": fakes.pop("hasher", None) or PasswordHasher(settings.bcrypt_rounds, settings.hash_workers),
        "mailer": fakes.pop("mailer", None) or build_mailer(settings, platform.data_dir),
        "export_parts": fakes.pop("export_parts", None) or StorageExportParts(settings),
        "internal_auth": InternalAuth("identity", callers),
    }
    return IdentityContainer(settings=settings, platform=platform, **parts, **fakes)
