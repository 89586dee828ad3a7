"""Runs the parts of services: consumers, outbox relays, sweeps and workers, with a graceful
stop that drains in-flight work."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from .auth import SESSION_END_EVENTS, caches_sessions, session_end_listener
from .consumers import Dispatcher, forget_handled
from .erasure import forget_expired_guards
from .outbox import OutboxRelay
from .service import Platform, ServiceUnit, Sweep, SweepResult, record_sweep

log = logging.getLogger(__name__)

HOUSEKEEPING_INTERVAL_S = 3600.0
READINESS_INTERVAL_S = 1.0
"""How often the background task recomputes every service's readiness."""
READINESS_FRESH_S = 3.0
"""How old a computed readiness may be and still answer ``/healthz`` and ``/readyz``."""


async def forget_messaging(relay: OutboxRelay, unit: ServiceUnit) -> dict[str, int]:
    """Apply the outbox and inbox retention of one service, and expire its erasure guards."""
    settings = unit.settings
    async with unit.database.transaction() as session:
        guards = await forget_expired_guards(session)
    return {
        "outbox_deleted": await relay.forget_published(timedelta(days=settings.outbox_keep_days)),
        "inbox_deleted": await forget_handled(unit.database, timedelta(days=settings.inbox_keep_days)),
        "erasure_guards_deleted": guards,
    }


@dataclass(frozen=True)
class Parts:
    """Which parts of each service this process runs."""

    consumers: bool = True
    relay: bool = True
    sweeps: bool = True
    workers: bool = True


class Runtime:
    """The background side of one process."""

    def __init__(self, platform: Platform, units: list[ServiceUnit], parts: Parts) -> None:
        self.platform = platform
        self.units = {unit.name: unit for unit in units}
        self.parts = parts
        self.relays = {
            u.name: OutboxRelay(
                u.database,
                platform.broker,
                batch_size=u.settings.outbox_batch_size,
                poll_interval=u.settings.outbox_poll_interval_s,
            )
            for u in units
        }
        self.sweep_results: dict[tuple[str, str], SweepResult] = {}
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.expected_consumers = 0
        self._readiness: dict[str, tuple[float, dict[str, Any]]] = {}

    async def start(self) -> None:
        """Connect the bus and start every part this process runs."""
        await self.platform.broker.connect()
        await self._forget_ended_sessions()
        for unit in self.units.values():
            for hook in unit.on_start:
                await hook()
            if self.parts.consumers:
                await self._start_consumers(unit)
            if self.parts.relay:
                self._spawn(self.relays[unit.name].run(self._stop), f"{unit.name}.relay")
                self._spawn(self._housekeeping(unit), f"{unit.name}.housekeeping")
            if self.parts.sweeps:
                for sweep in unit.sweeps:
                    self._spawn(self._sweep_loop(unit, sweep), f"{unit.name}.{sweep.name}")
            if self.parts.workers:
                for n, worker in enumerate(unit.workers):
                    self._spawn(worker(self._stop), f"{unit.name}.worker{n}")
        self._spawn(self._watch_readiness(), "readiness")

    async def _forget_ended_sessions(self) -> None:
        """Subscribe this process's session cache to the session-end broadcast: every process
        (each API replica) gets its own copy, so none trusts an ended session until its TTL."""
        verifier = self.platform.session_verifier
        if verifier is None or not caches_sessions(verifier):
            return
        keys = tuple(e.routing_key() for e in SESSION_END_EVENTS)
        await self.platform.broker.broadcast(keys, session_end_listener(verifier))

    async def _start_consumers(self, unit: ServiceUnit) -> None:
        for subscription in unit.subscriptions:
            spec = self.platform.queue_spec(unit.name, subscription)
            await self.platform.broker.consume(spec, Dispatcher(unit.name, unit.database, subscription))
            self.expected_consumers += 1

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def _sweep_loop(self, unit: ServiceUnit, sweep: Sweep, run_first: bool = False) -> None:
        if run_first:
            await self._record(unit.name, sweep)
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), sweep.interval_s)
            if not self._stop.is_set():
                await self._record(unit.name, sweep)

    async def _housekeeping(self, unit: ServiceUnit) -> None:
        """Hourly, next to the relay (which runs in every deployment): forget published outbox
        rows and old inbox entries."""
        sweep = Sweep(
            "messaging-retention",
            HOUSEKEEPING_INTERVAL_S,
            lambda: forget_messaging(self.relays[unit.name], unit),
        )
        await self._sweep_loop(unit, sweep, run_first=True)

    async def run_sweep(self, service: str, name: str) -> SweepResult:
        """Run one sweep now and remember its result."""
        sweep = next(s for s in self.units[service].sweeps if s.name == name)
        return await self._record(service, sweep)

    async def _record(self, service: str, sweep: Sweep) -> SweepResult:
        name = sweep.name
        result = SweepResult(name=name, started_at=datetime.now(UTC))
        try:
            result.counts = await sweep.run()
        except Exception as exc:
            log.exception("sweep failed", extra={"service": service, "sweep": name})
            result.error = type(exc).__name__
        result.finished_at = datetime.now(UTC)
        self.sweep_results[(service, name)] = result
        await record_sweep(self.units[service].database, result)
        return result

    async def readiness(self, service: str) -> dict[str, Any]:
        """The checks behind ``/readyz`` for one service: the background task's answer when it
        is fresh and ready, else computed now (at startup, or while something is down)."""
        cached = self._readiness.get(service)
        if cached is not None and cached[1]["ready"] and time.monotonic() - cached[0] <= READINESS_FRESH_S:
            return cached[1]
        return await self._check_readiness(service)

    async def _check_readiness(self, service: str) -> dict[str, Any]:
        unit = self.units[service]
        checks: dict[str, Any] = {"database": await unit.database.ping()}
        broker = self.platform.broker
        checks["broker"] = broker.connected
        if self.parts.consumers:
            expected = len(unit.subscriptions)
            checks["consumers"] = broker.consumers_attached >= self.expected_consumers > 0 or (expected == 0)
        if self.parts.relay:
            checks["relay"] = self.relays[service].running
        checks["ready"] = all(v for k, v in checks.items())
        self._readiness[service] = (time.monotonic(), checks)
        return checks

    async def _watch_readiness(self) -> None:
        """Recompute every service's readiness in the background (databases pinged at the
        same time), so health probes answer from memory and never wait behind a busy pool."""
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), READINESS_INTERVAL_S)
            if self._stop.is_set():
                return
            try:
                await asyncio.gather(*(self._check_readiness(name) for name in self.units))
            except Exception:
                log.exception("readiness check failed")

    async def stop(self, drain_timeout: float = 30.0) -> None:
        """Stop taking work, let in-flight messages finish, then stop everything else."""
        await self.platform.broker.close(drain_timeout)
        self._stop.set()
        if self._tasks:
            _, pending = await asyncio.wait(self._tasks, timeout=drain_timeout)
            for task in pending:
                task.cancel()
        for unit in self.units.values():
            for hook in unit.on_stop:
                with contextlib.suppress(Exception):
                    await hook()
            await unit.database.dispose()
