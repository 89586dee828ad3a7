"""`make bench`: the embedded mode's time to ready, and outbox → bus → inbox throughput on both
buses against the local servers.

Prints the measurements and checks them against the targets below (exit 1 when one is missed).
"""

from __future__ import annotations

import asyncio
import time
import uuid

from aiflux_contracts import UserDeleted
from aiflux_kit.bus import Broker, QueueSpec
from aiflux_kit.bus.local import LocalBroker
from aiflux_kit.bus.rabbitmq import RabbitBroker
from aiflux_kit.consumers import Dispatcher, HandlerContext, Subscription
from aiflux_kit.db import Database, drop_database, ensure_database, make_base
from aiflux_kit.outbox import OutboxRelay, add_event
from sqlalchemy import create_engine, text

PG = "postgresql+psycopg://postgres@127.0.0.1:5432/"
AMQP = "amqp://guest:guest@127.0.0.1:5672/"
EVENTS = 2_000
# events/s end to end on a 2-core machine; measured on an idle one (2026-11-28): local ~150,
# rabbitmq ~220 (aio-pika spends ~1.5 ms of CPU per event published and consumed).
TARGETS = {"local": 100.0, "rabbitmq": 150.0}
EMBEDDED_READY_TARGET_S = 60.0  # `make run` on a fresh data dir until /healthz says all ready


def embedded_time_to_ready() -> float:
    """Start `aiflux embedded` on a fresh data dir; seconds until every service is ready."""
    import os
    import signal
    import socket
    import subprocess
    import sys
    import tempfile

    import httpx

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as data_dir:
        env = {**os.environ, "AIFLUX_DATA_DIR": data_dir, "PORT": str(port)}
        started = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-m", "aiflux_runner.cli", "embedded"],
                                   env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while time.perf_counter() - started < 300:
                try:
                    services = httpx.get(f"http://127.0.0.1:{port}/healthz").json()["services"]
                    if len(services) == 5 and all(
                            v["status"] == "ready" for v in services.values()):
                        return time.perf_counter() - started
                except (httpx.TransportError, ValueError, KeyError):
                    pass
                time.sleep(0.2)
            return float("inf")
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(60)


async def _noop(ctx: HandlerContext, event: UserDeleted) -> None:
    await ctx.session.execute(text("SELECT 1"))


async def run(name: str, broker: Broker, db: Database) -> float:
    tag = uuid.uuid4().hex[:6]
    sub = Subscription(f"bench-{tag}", (UserDeleted,), _noop, prefetch=32)
    await broker.consume(QueueSpec(f"bench.{tag}", (UserDeleted.routing_key(),), prefetch=32),
                         Dispatcher("bench", db, sub))
    async with db.transaction() as session:
        for _ in range(EVENTS):
            await add_event(session, UserDeleted(user_id=uuid.uuid4(), request_id=uuid.uuid4()))
    relay = OutboxRelay(db, broker, batch_size=200)
    started = time.perf_counter()
    while await relay.relay_batch():
        pass
    relayed = time.perf_counter() - started
    while True:
        async with db.transaction() as session:
            done = (await session.execute(text("SELECT count(*) FROM inbox"))).scalar_one()
        if done >= EVENTS:
            break
        await asyncio.sleep(0.05)
    total = time.perf_counter() - started
    rate = EVENTS / total
    print(f"{name:9s} relay {EVENTS / relayed:8.0f} ev/s   end-to-end {rate:8.0f} ev/s "
          f"(target {TARGETS[name]:.0f})")
    return rate


async def main() -> int:
    ready = await asyncio.to_thread(embedded_time_to_ready)
    print(f"embedded  ready in {ready:6.1f} s (target {EMBEDDED_READY_TARGET_S:.0f} s)")
    missed = int(ready > EMBEDDED_READY_TARGET_S)
    for name in ("local", "rabbitmq"):
        svc_url = f"{PG}bench_{uuid.uuid4().hex[:6]}"
        bus_url = f"{PG}bench_bus_{uuid.uuid4().hex[:6]}"
        ensure_database(svc_url)
        engine = create_engine(svc_url)
        make_base().metadata.create_all(engine)
        engine.dispose()
        db = Database(svc_url)
        broker: Broker = LocalBroker(bus_url, workers_per_queue=4) if name == "local" else (
            RabbitBroker(AMQP, exchange=f"bench.{uuid.uuid4().hex[:6]}"))
        await broker.connect()
        try:
            missed += await run(name, broker, db) < TARGETS[name]
        finally:
            await broker.close(5)
            await db.dispose()
            drop_database(svc_url)
            if name == "local":
                drop_database(bus_url)
    return 1 if missed else 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
