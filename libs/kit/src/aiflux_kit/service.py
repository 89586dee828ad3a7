"""What a service hands the runner: its routes, subscriptions, sweeps and workers.

A service's ``bootstrap.build(settings, platform)`` returns a :class:`ServiceUnit`; the runner
decides which parts run in which process (all in one for embedded, API / worker / relay apart
when distributed).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter
from sqlalchemy import text

from .auth import AdminAuditSink, SessionVerifier
from .bus import Broker, QueueSpec
from .consumers import Subscription
from .db import Database
from .metrics import MetricsReader
from .ratelimit import RateLimiter
from .settings import ServiceSettings

SweepRun = Callable[[], Awaitable[dict[str, int]]]
Worker = Callable[[asyncio.Event], Awaitable[None]]


@dataclass(frozen=True)
class Sweep:
    """A scheduled job (retention, expiry, reconciliation); ``run`` returns what it did."""

    name: str
    interval_s: float
    run: SweepRun


@dataclass
class SweepResult:
    """The last run of a sweep, for ops."""

    name: str
    started_at: datetime
    finished_at: datetime | None = None
    counts: dict[str, int] = field(default_factory=dict)
    error: str | None = None


@dataclass
class Platform:
    """Infrastructure the runner gives every service."""

    mode: Literal["embedded", "distributed"]
    broker: Broker
    limiter: RateLimiter
    data_dir: Path
    session_verifier: SessionVerifier | None = None
    retry_delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000, 300_000)
    bus_namespace: str = ""
    """Prefix of every queue name, so separate installations can share one broker."""

    def queue_spec(self, service: str, subscription: Subscription[Any]) -> QueueSpec:
        """The queue of ``subscription`` of ``service`` on this platform's bus."""
        spec = subscription.queue(service, self.retry_delays_ms)
        if not self.bus_namespace:
            return spec
        return replace(spec, name=f"{self.bus_namespace}.{spec.name}")


@dataclass
class ServiceUnit:
    """One service, built from its settings."""

    name: str
    settings: ServiceSettings
    database: Database
    migrations: Path
    router: APIRouter
    container: Any
    subscriptions: list[Subscription[Any]] = field(default_factory=list)
    sweeps: list[Sweep] = field(default_factory=list)
    workers: list[Worker] = field(default_factory=list)
    on_start: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    on_stop: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    session_verifier: SessionVerifier | None = None
    admin_audit: AdminAuditSink | None = None
    """Called for every admin call to this service's ops routes (after the audit log line)."""
    metrics: list[MetricsReader] = field(default_factory=list)
    """Domain gauges read when Prometheus scrapes ``/metrics`` (aiflux_kit.metrics)."""


async def record_sweep(database: Database, result: SweepResult) -> None:
    """Keep the last run of a sweep in the service's ``sweep_run`` table (shown to ops)."""
    async with database.transaction() as session:
        await session.execute(
            text(
                "INSERT INTO sweep_run (name, started_at, finished_at, counts, error)"
                " VALUES (:n, :s, :f, CAST(:c AS jsonb), :e) ON CONFLICT (name) DO UPDATE SET"
                " started_at = :s, finished_at = :f, counts = CAST(:c AS jsonb), error = :e"
            ),
            {
                "n": result.name,
                "s": result.started_at,
                "f": result.finished_at,
                "c": json.dumps(result.counts),
                "e": result.error,
            },
        )


async def last_sweeps(database: Database) -> dict[str, SweepResult]:
    """The last recorded run of every sweep of a service."""
    async with database.transaction() as session:
        rows = (
            await session.execute(text("SELECT name, started_at, finished_at, counts, error FROM sweep_run"))
        ).all()
    return {r.name: SweepResult(r.name, r.started_at, r.finished_at, dict(r.counts), r.error) for r in rows}
