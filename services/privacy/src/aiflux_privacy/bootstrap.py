"""Builds the privacy service from its settings; nothing happens at import time.

Holds the container (what handlers and routes need, built once) and the FastAPI dependency
aliases the routes share.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from aiflux_kit.auth import Principal, current_user_any_policy
from aiflux_kit.db import Database
from aiflux_kit.http import peer_client
from aiflux_kit.service import Platform, ServiceUnit, Sweep
from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from .adapters.peers import IdentityClient, StorageClient
from .consumers import subscriptions
from .domain.consent_id import parse_consent_id
from .handlers.deadlines import flag_overdue
from .handlers.erasure import redrive_stalled
from .handlers.export import Assembler
from .handlers.retention import expire_anonymous_consents
from .metrics import request_metrics
from .settings import PrivacySettings

MIGRATIONS = Path(__file__).parent / "migrations"


@dataclass
class PrivacyContainer:
    """What the privacy handlers and routes need, built once."""

    settings: PrivacySettings
    database: Database
    platform: Platform
    storage: StorageClient
    identity: IdentityClient
    assembler: Assembler

    @property
    def pepper(self) -> str:
        """The secret pepper of certificate subject hashes."""
        return self.settings.secret("pseudonym_pepper")

    @property
    def link_secret(self) -> str:
        """The key that signs one-click withdrawal links."""
        return self.settings.secret("link_secret")

    @property
    def consent_id_secret(self) -> str:
        """The key that signs the anonymous consent ids privacy issues."""
        return self.settings.secret("consent_id_secret")


def build(
    platform: Platform,
    settings: PrivacySettings | None = None,
    *,
    database: Database | None = None,
    storage: StorageClient | None = None,
    identity: IdentityClient | None = None,
) -> ServiceUnit:
    """The privacy service, wired to real adapters (tests may hand in fakes of any)."""
    from .api import build_router  # the routes import this module's dependency aliases

    settings = settings or PrivacySettings()
    database = database or Database(settings.database_url, pool_size=settings.db_pool_size)
    closing: list[Any] = []
    if storage is None:
        storage_http = peer_client("privacy", "storage", settings, timeout=60.0)
        storage, closing = StorageClient(storage_http), [*closing, storage_http.aclose]
    if identity is None:
        identity_http = peer_client("privacy", "identity", settings)
        identity, closing = IdentityClient(identity_http), [*closing, identity_http.aclose]
    assembler = Assembler(
        database,
        storage,
        settings.public_url,
        settings.export_retention_days,
        settings.export_poll_interval_s,
    )
    container = PrivacyContainer(settings, database, platform, storage, identity, assembler)
    return ServiceUnit(
        name="privacy",
        settings=settings,
        database=database,
        migrations=MIGRATIONS,
        router=build_router(settings),
        container=container,
        subscriptions=subscriptions(container),
        sweeps=_sweeps(container),
        workers=_workers(container),
        on_stop=closing,
        metrics=_metrics(container),
    )


def _sweeps(container: PrivacyContainer) -> list[Sweep]:
    settings, database = container.settings, container.database

    async def redrive() -> dict[str, int]:
        return await redrive_stalled(database, settings.stall_after_s, settings.max_redrives)

    async def deadlines() -> dict[str, int]:
        return await flag_overdue(database)

    async def anonymous_consents() -> dict[str, int]:
        return await expire_anonymous_consents(database)

    return [
        Sweep("request-deadlines", settings.deadline_sweep_interval_s, deadlines),
        Sweep("erasure-redrive", settings.redrive_interval_s, redrive),
        Sweep("anonymous-consent-expiry", settings.deadline_sweep_interval_s, anonymous_consents),
    ]


def _workers(container: PrivacyContainer) -> list[Any]:
    return [container.assembler.run]


def _metrics(container: PrivacyContainer) -> list[Any]:
    return [request_metrics(container.database, container.settings.stall_after_s)]


# --- FastAPI dependencies shared by the routes --------------------------------------------


async def container(request: Request) -> PrivacyContainer:
    """The privacy service's container (the same in the one-service and all-in-one apps)."""
    found: PrivacyContainer = request.app.state.services["privacy"]
    return found


async def transaction(request: Request) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on error."""
    async with (await container(request)).database.transaction() as session:
        yield session


async def optional_user(request: Request) -> Principal | None:
    """The signed-in caller, or None for an anonymous visitor (no session presented)."""
    presented = request.headers.get("authorization", "").lower().startswith("bearer ") or any(
        name in request.cookies for name in ("__Host-aiflux_session", "aiflux_session")
    )
    if not presented:
        return None
    return await current_user_any_policy(request)


async def consent_cookie(request: Request) -> uuid.UUID | None:
    """The anonymous visitor's consent id, when the cookie holds one privacy issued (any other
    value, e.g. a made-up or another user's id, counts as no cookie)."""
    found = await container(request)
    return parse_consent_id(request.cookies.get(found.settings.consent_cookie), found.consent_id_secret)


async def client_address(request: Request) -> str:
    """The caller's address, the identifier of anonymous rate limits (never logged)."""
    return request.client.host if request.client else "unknown"


Container = Annotated[PrivacyContainer, Depends(container)]
# Committed before the response is sent, so a 2xx means the change is durable.
Session = Annotated[AsyncSession, Depends(transaction, scope="function")]
MaybeUser = Annotated[Principal | None, Depends(optional_user)]
ConsentCookie = Annotated[uuid.UUID | None, Depends(consent_cookie)]
ClientAddress = Annotated[str, Depends(client_address)]
