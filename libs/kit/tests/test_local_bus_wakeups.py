"""The in-process bus's idle workers sleep until woken: retries coming due reach them through
the bus's one due-poller, not through each idle worker polling on its own."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from aiflux_kit.bus import local as local_bus
from aiflux_kit.bus.local import LocalBroker

from .test_bus_contract import fails_twice_then_is_handled_once

pytestmark = pytest.mark.needs_postgres


async def test_a_retry_is_delivered_when_it_comes_due_though_idle_workers_never_poll(
    pg_database: Callable[[str], str], queue_prefix: str, monkeypatch: pytest.MonkeyPatch
):
    # An idle worker would look for itself only after ~a day: the retries (no NOTIFY announces
    # them, their delay runs out in the table) can only come through the due-poller.
    monkeypatch.setattr(local_bus, "IDLE_WORKER_POLLS", 1_000_000)
    broker = LocalBroker(pg_database("bus"), poll_interval=0.1)
    await broker.connect()
    try:
        await fails_twice_then_is_handled_once(broker, queue_prefix)
    finally:
        await broker.close(drain_timeout=5)
